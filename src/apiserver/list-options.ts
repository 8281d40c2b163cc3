/**
 * The ListOptions query parameters of list and watch requests, read and checked as
 * kube-apiserver reads them: its boolean converter (every value but "0" and "false", in any
 * case, is true; the Python client sends watch=True) and its ValidateListOptions rules for
 * WatchList (sendInitialEvents with resourceVersionMatch=NotOlderThan). Pure.
 */
import { FieldErrors } from '../api/index.js'
import { invalidKind } from './api-error.js'

/** A boolean query parameter: absent is undefined, "0" and "false" (any case) are false, anything else is true. */
export function queryBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name)
  if (v === null) return undefined
  return !(v === '0' || v.toLowerCase() === 'false')
}

export function isWatchRequest(q: URLSearchParams): boolean {
  return queryBool(q, 'watch') === true
}

export type ResourceVersionMatch = 'NotOlderThan' | 'Exact'

/**
 * ValidateListOptions: the combinations kube-apiserver refuses with a 422 on ListOptions
 * (group meta.k8s.io, empty name) before it lists or watches anything.
 */
export function validateListOptions(q: URLSearchParams): void {
  const errs = new FieldErrors()
  const match = q.get('resourceVersionMatch') ?? ''
  const rv = q.get('resourceVersion') ?? ''
  const hasContinue = (q.get('continue') ?? '') !== ''
  const sendInitialEvents = queryBool(q, 'sendInitialEvents')
  if (isWatchRequest(q)) {
    if (sendInitialEvents !== undefined && match !== 'NotOlderThan') {
      errs.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan')
    }
    if (match !== '') {
      if (sendInitialEvents === undefined) errs.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided')
      if (match !== 'NotOlderThan') errs.notSupported('resourceVersionMatch', match, ['NotOlderThan'])
      if (hasContinue) errs.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided')
    }
  } else {
    if (match !== '') {
      if (rv === '') errs.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')
      if (hasContinue) errs.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided')
      if (match !== 'Exact' && match !== 'NotOlderThan') errs.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', ''])
      if (match === 'Exact' && rv === '0') errs.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
    }
    if (sendInitialEvents !== undefined) errs.forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list')
  }
  if (errs.ok) return
  throw invalidKind('meta.k8s.io', 'ListOptions', '', errs.list.map((e) => ({ reason: e.type, message: e.message, field: e.field })))
}
