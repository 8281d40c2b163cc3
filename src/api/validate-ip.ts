/**
 * IP and CIDR field checks shared by the object validators. `legacy` accepts IPv4 parts with
 * leading zeros (kube-proxy's ParseIPSloppy), which `kpe rules -f` needs for upstream's vectors;
 * the API server accepts only the strict forms a current kube-apiserver accepts for new objects.
 */
import { cidrTextContains, parseCidr, parseCidrSloppy, parseIP, parseIPSloppy, type IPAddress } from '../net/index.js'
import type { FieldErrors } from './field-errors.js'

export type IPForms = 'strict' | 'legacy'

export function parseIPField(v: unknown, forms: IPForms): IPAddress | undefined {
  if (typeof v !== 'string') return undefined
  return forms === 'legacy' ? parseIPSloppy(v) : parseIP(v)
}

/** Checks a required IP address; returns the parsed address when valid. */
export function validateIP(errs: FieldErrors, path: string, v: unknown, forms: IPForms): IPAddress | undefined {
  const ip = parseIPField(v, forms)
  if (ip === undefined) errs.invalid(path, v, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')
  return ip
}

export function validateCidr(errs: FieldErrors, path: string, v: unknown, forms: IPForms): void {
  const ok = typeof v === 'string' && (forms === 'legacy' ? parseCidrSloppy(v.trim()) : parseCidr(v.trim())) !== undefined
  if (!ok) errs.invalid(path, v, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')
}

const specialRanges: readonly (readonly [readonly string[], string])[] = [
  [['0.0.0.0/32', '::/128'], 'may not be unspecified'],
  [['127.0.0.0/8', '::1/128'], 'may not be in the loopback range (127.0.0.0/8, ::1/128)'],
  [['169.254.0.0/16', 'fe80::/10'], 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
  [['224.0.0.0/24', 'ff02::/16'], 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'],
]

/**
 * kube-apiserver's ValidateNonSpecialIP (externalIPs) and ValidateEndpointIP (endpoint
 * addresses): a valid address that is not unspecified, loopback, link-local or link-local multicast.
 */
export function validateNonSpecialIP(errs: FieldErrors, path: string, v: unknown, forms: IPForms): void {
  const ip = validateIP(errs, path, v, forms)
  if (ip === undefined) return
  for (const [cidrs, why] of specialRanges) {
    if (cidrs.some((c) => c.includes(':') === ip.includes(':') && cidrTextContains(c, ip))) errs.invalid(path, v, why)
  }
}
