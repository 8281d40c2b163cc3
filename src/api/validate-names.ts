/** Kubernetes name and label syntax (RFC 1123 / RFC 1035 labels, qualified names, IANA service names). */

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && dns1123Label.test(s)
}
export function isDns1035Label(s: string): boolean {
  return s.length <= 63 && dns1035Label.test(s)
}
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && dns1123Subdomain.test(s)
}

/** A label key: optional DNS subdomain prefix and a name part of at most 63 characters. */
export function isQualifiedName(s: string): boolean {
  const parts = s.split('/')
  if (parts.length > 2) return false
  const name = parts[parts.length - 1]!
  if (parts.length === 2 && (parts[0] === '' || !isDns1123Subdomain(parts[0]!))) return false
  return name.length > 0 && name.length <= 63 && qualifiedNamePart.test(name)
}

export function isLabelValue(s: string): boolean {
  return s.length <= 63 && labelValue.test(s)
}

/** IANA_SVC_NAME: at most 15 lowercase alphanumerics or '-', at least one letter, no '--' and no '-' at the ends. */
export function isIanaSvcName(s: string): boolean {
  return s.length >= 1 && s.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--')
}
