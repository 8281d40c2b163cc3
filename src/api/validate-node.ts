/** Node validation: pod CIDRs the IPAM and proxier read, and the addresses the tables and agents read. */
import { FieldErrors, isObject } from './field-errors.js'
import { validateCidr, validateIP, type IPForms } from './validate-ip.js'
import { oneOf } from './validate-service.js'

const addressTypes = ['ExternalDNS', 'ExternalIP', 'Hostname', 'InternalDNS', 'InternalIP'] as const

export function validateNode(errs: FieldErrors, obj: Record<string, unknown>, forms: IPForms): void {
  const spec = obj['spec']
  if (isObject(spec)) {
    if (spec['podCIDR'] !== undefined && spec['podCIDR'] !== '') validateCidr(errs, 'spec.podCIDR', spec['podCIDR'], forms)
    const cidrs = Array.isArray(spec['podCIDRs']) ? spec['podCIDRs'] : []
    cidrs.forEach((c, i) => validateCidr(errs, `spec.podCIDRs[${i}]`, c, forms))
    if (cidrs.length > 2) errs.tooMany('spec.podCIDRs', cidrs.length, 2)
  }
  const status = obj['status']
  if (!isObject(status)) return
  const addresses = Array.isArray(status['addresses']) ? status['addresses'] : []
  addresses.forEach((a, i) => {
    const p = `status.addresses[${i}]`
    if (!isObject(a)) return errs.invalid(p, a, 'must be an object')
    if (a['type'] === undefined) errs.required(`${p}.type`)
    else oneOf(errs, `${p}.type`, a['type'], addressTypes)
    if (typeof a['address'] !== 'string' || a['address'] === '') errs.required(`${p}.address`)
    else if (a['type'] === 'InternalIP' || a['type'] === 'ExternalIP') validateIP(errs, `${p}.address`, a['address'], forms)
  })
  const conditions = Array.isArray(status['conditions']) ? status['conditions'] : []
  conditions.forEach((c, i) => {
    if (!isObject(c)) return errs.invalid(`status.conditions[${i}]`, c, 'must be an object')
    if (typeof c['type'] !== 'string' || c['type'] === '') errs.required(`status.conditions[${i}].type`)
  })
}
