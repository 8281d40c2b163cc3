/**
 * Label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors (=, ==, != on a
 * per-resource list of fields). Parsing throws 400 ApiErrors; matching is pure.
 */
import { badRequest } from './api-error.js'
import type { ResourceInfo } from '../api/index.js'
import type { KubeObject } from '../store/index.js'
import { eventsV1FieldLabel } from './versions/events-v1.js'

export type LabelRequirement =
  | { readonly op: 'eq' | 'neq'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'notexists'; readonly key: string }

export interface FieldRequirement {
  readonly field: string
  readonly op: 'eq' | 'neq'
  readonly value: string
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out.map((t) => t.trim()).filter((t) => t !== '')
}

export function parseLabelSelector(s: string | null | undefined): LabelRequirement[] {
  if (!s) return []
  return splitTerms(s).map((term) => {
    const set = /^([^\s!=(]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term)
    if (set) {
      const values = (set[3] ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '')
      return { op: set[2] as 'in' | 'notin', key: set[1] ?? '', values }
    }
    const cmp = /^([^\s!=]+)\s*(==|!=|=)\s*([^\s]*)$/.exec(term)
    if (cmp) return { op: cmp[2] === '!=' ? 'neq' : 'eq', key: cmp[1] ?? '', value: cmp[3] ?? '' }
    if (/^![^\s!=]+$/.test(term)) return { op: 'notexists', key: term.slice(1) }
    if (/^[^\s!=(),]+$/.test(term)) return { op: 'exists', key: term }
    throw badRequest(`unable to parse requirement: found '${term}', expected: ',' or 'end of string'`)
  })
}

export function matchesLabels(reqs: readonly LabelRequirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {}
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key)
    const v = l[r.key]
    switch (r.op) {
      case 'eq': return has && v === r.value
      case 'neq': return !has || v !== r.value
      case 'in': return has && r.values.includes(v ?? '')
      case 'notin': return !has || !r.values.includes(v ?? '')
      case 'exists': return has
      case 'notexists': return !has
    }
  })
}

/**
 * A structured LabelSelector (matchLabels, matchExpressions) as requirements; undefined for an
 * absent selector, which selects nothing (an empty one selects everything), as LabelSelectorAsSelector.
 */
export function labelSelectorRequirements(selector: unknown): LabelRequirement[] | undefined {
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) return undefined
  const s = selector as { matchLabels?: Record<string, unknown>; matchExpressions?: unknown }
  const reqs: LabelRequirement[] = Object.entries(s.matchLabels ?? {}).map(([key, value]) => ({ op: 'eq', key, value: String(value) }))
  const expressions = Array.isArray(s.matchExpressions) ? s.matchExpressions.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null) : []
  for (const e of expressions) {
    const key = String(e['key'] ?? '')
    const values = Array.isArray(e['values']) ? e['values'].map(String) : []
    switch (e['operator']) {
      case 'In': reqs.push({ op: 'in', key, values }); break
      case 'NotIn': reqs.push({ op: 'notin', key, values }); break
      case 'Exists': reqs.push({ op: 'exists', key }); break
      case 'DoesNotExist': reqs.push({ op: 'notexists', key }); break
    }
  }
  return reqs
}

/** Fields kube-apiserver accepts in field selectors, per resource (besides metadata.name/namespace). */
const extraFields: Readonly<Record<string, readonly string[]>> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  secrets: ['type'],
  nodes: ['spec.unschedulable'],
  namespaces: ['status.phase'],
  replicasets: ['status.replicas'],
}

export function parseFieldSelector(s: string | null | undefined, r: ResourceInfo): FieldRequirement[] {
  if (!s) return []
  const allowed = ['metadata.name', 'metadata.namespace', ...(extraFields[r.resource] ?? [])]
  // Objects are matched in their storage form: events.k8s.io's labels name the core fields.
  const label = r.group === 'events.k8s.io' ? eventsV1FieldLabel : (l: string) => l
  return splitTerms(s).map((term) => {
    const m = /^([^=!]+)(==|!=|=)(.*)$/.exec(term)
    if (!m) throw badRequest(`invalid selector: '${term}'; can't understand '${term}'`)
    const field = label((m[1] ?? '').trim())
    if (!allowed.includes(field)) throw badRequest(`field label not supported: ${field}`)
    return { field, op: m[2] === '!=' ? 'neq' : 'eq', value: (m[3] ?? '').trim() }
  })
}

function fieldValue(obj: KubeObject, path: string): string {
  if (path === 'source') path = 'source.component'
  let cur: unknown = obj
  for (const p of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return ''
    cur = (cur as Record<string, unknown>)[p]
  }
  return cur === undefined || cur === null ? '' : String(cur)
}

export function matchesFields(reqs: readonly FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === 'eq'))
}

export interface ObjectFilter {
  readonly labels: readonly LabelRequirement[]
  readonly fields: readonly FieldRequirement[]
}

export function parseFilter(query: URLSearchParams, r: ResourceInfo): ObjectFilter {
  return { labels: parseLabelSelector(query.get('labelSelector')), fields: parseFieldSelector(query.get('fieldSelector'), r) }
}

export function matchesFilter(f: ObjectFilter, obj: KubeObject): boolean {
  return matchesLabels(f.labels, obj.metadata.labels) && matchesFields(f.fields, obj)
}
