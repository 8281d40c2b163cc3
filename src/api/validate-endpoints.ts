/**
 * EndpointSlice and Endpoints validation: address syntax per address type (and never a special
 * address, as kube-apiserver's ValidateEndpointIP), conditions, ports. The proxier's endpoint
 * maps and the userspace cluster index read these without further checks.
 */
import { parseIPField, validateNonSpecialIP, type IPForms } from './validate-ip.js'
import { protocols } from '../net/index.js'
import { FieldErrors, isObject } from './field-errors.js'
import { validateName } from './validate-metadata.js'
import { isDns1123Label, isDns1123Subdomain } from './validate-names.js'
import { isPortNumber, oneOf } from './validate-service.js'

const addressTypes = ['FQDN', 'IPv4', 'IPv6'] as const
const maxEndpoints = 1000
const maxAddresses = 100
const maxPorts = 100

function listAt(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

export function validateEndpointSlice(errs: FieldErrors, obj: Record<string, unknown>, forms: IPForms): void {
  const addressType = obj['addressType']
  if (addressType === undefined || addressType === '') errs.required('addressType')
  else oneOf(errs, 'addressType', addressType, addressTypes)
  const endpoints = listAt(obj['endpoints'])
  if (endpoints.length > maxEndpoints) errs.tooMany('endpoints', endpoints.length, maxEndpoints)
  endpoints.forEach((ep, i) => {
    const path = `endpoints[${i}]`
    if (!isObject(ep)) return errs.invalid(path, ep, 'must be an object')
    const addrs = listAt(ep['addresses'])
    if (addrs.length === 0) errs.required(`${path}.addresses`, 'Required value: must contain at least 1 address')
    if (addrs.length > maxAddresses) errs.tooMany(`${path}.addresses`, addrs.length, maxAddresses)
    addrs.forEach((a, j) => validateSliceAddress(errs, `${path}.addresses[${j}]`, a, addressType, forms))
    const nodeName = ep['nodeName']
    if (typeof nodeName === 'string' && nodeName !== '') validateName(errs, `${path}.nodeName`, nodeName, 'dns1123-subdomain')
    const hostname = ep['hostname']
    if (typeof hostname === 'string' && hostname !== '' && !isDns1123Label(hostname)) errs.invalid(`${path}.hostname`, hostname, 'must be a DNS label')
  })
  const ports = listAt(obj['ports'])
  if (ports.length > maxPorts) errs.tooMany('ports', ports.length, maxPorts)
  const names = new Set<string>()
  ports.forEach((p, i) => {
    const path = `ports[${i}]`
    if (!isObject(p)) return errs.invalid(path, p, 'must be an object')
    const port = p['port']
    if (port !== undefined && !isPortNumber(port)) errs.invalid(`${path}.port`, port, 'must be between 1 and 65535, inclusive')
    oneOf(errs, `${path}.protocol`, p['protocol'] ?? 'TCP', protocols)
    const name = typeof p['name'] === 'string' ? p['name'] : ''
    if (name !== '' && !isDns1123Label(name)) errs.invalid(`${path}.name`, name, 'must be a DNS label')
    if (names.has(name)) errs.duplicate(`${path}.name`, name)
    names.add(name)
  })
}

function validateSliceAddress(errs: FieldErrors, path: string, a: unknown, addressType: unknown, forms: IPForms): void {
  if (addressType === 'FQDN') {
    if (typeof a !== 'string' || !isDns1123Subdomain(a)) errs.invalid(path, a, 'must be a valid DNS subdomain')
    return
  }
  if (addressType !== 'IPv4' && addressType !== 'IPv6') return
  const ip = parseIPField(a, forms)
  if (ip !== undefined && (ip.includes(':') ? 'IPv6' : 'IPv4') !== addressType) return errs.invalid(path, a, `must be a valid ${addressType} address`)
  validateNonSpecialIP(errs, path, a, forms)
}

/** core/v1 Endpoints, as the endpoints controller writes them and `kubectl get ep` prints them. */
export function validateEndpoints(errs: FieldErrors, obj: Record<string, unknown>, forms: IPForms): void {
  listAt(obj['subsets']).forEach((s, i) => {
    const path = `subsets[${i}]`
    if (!isObject(s)) return errs.invalid(path, s, 'must be an object')
    for (const field of ['addresses', 'notReadyAddresses']) {
      listAt(s[field]).forEach((a, j) => {
        if (!isObject(a)) return errs.invalid(`${path}.${field}[${j}]`, a, 'must be an object')
        validateNonSpecialIP(errs, `${path}.${field}[${j}].ip`, a['ip'], forms)
      })
    }
    listAt(s['ports']).forEach((p, j) => {
      if (!isObject(p)) return errs.invalid(`${path}.ports[${j}]`, p, 'must be an object')
      if (!isPortNumber(p['port'])) errs.invalid(`${path}.ports[${j}].port`, p['port'], 'must be between 1 and 65535, inclusive')
      oneOf(errs, `${path}.ports[${j}].protocol`, p['protocol'] ?? 'TCP', protocols)
    })
  })
}
