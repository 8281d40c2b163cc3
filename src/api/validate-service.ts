/**
 * Service validation: kube-apiserver's ValidateService for the fields kpe stores and the proxier
 * reads (type, cluster IPs, ports, externalIPs, source ranges, affinity, traffic policies,
 * load-balancer status). A value that passes here cannot fail open or throw downstream.
 */
import { protocols } from '../net/index.js'
import { FieldErrors, isObject } from './field-errors.js'
import { validateCidr, validateIP, validateNonSpecialIP, type IPForms } from './validate-ip.js'
import { validateLabels } from './validate-metadata.js'
import { isDns1123Label, isIanaSvcName } from './validate-names.js'

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const
const trafficPolicies = ['Cluster', 'Local'] as const
const sessionAffinities = ['ClientIP', 'None'] as const
const ipFamilyPolicies = ['SingleStack', 'PreferDualStack', 'RequireDualStack'] as const
const ipFamilies = ['IPv4', 'IPv6'] as const
/** The annotation kube-proxy reads when spec.loadBalancerSourceRanges is empty. */
export const sourceRangesAnnotation = 'service.beta.kubernetes.io/load-balancer-source-ranges'

export function isPortNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535
}

export function oneOf<T extends string>(errs: FieldErrors, path: string, v: unknown, allowed: readonly T[]): void {
  if (v !== undefined && !allowed.includes(v as T)) errs.notSupported(path, v, allowed)
}

function listAt(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

export function validateServiceSpec(errs: FieldErrors, obj: Record<string, unknown>, forms: IPForms): void {
  const spec = obj['spec']
  if (!isObject(spec)) return errs.required('spec')
  const type = spec['type'] ?? 'ClusterIP'
  oneOf(errs, 'spec.type', type, serviceTypes)
  oneOf(errs, 'spec.externalTrafficPolicy', spec['externalTrafficPolicy'], trafficPolicies)
  oneOf(errs, 'spec.internalTrafficPolicy', spec['internalTrafficPolicy'], trafficPolicies)
  oneOf(errs, 'spec.sessionAffinity', spec['sessionAffinity'], sessionAffinities)
  oneOf(errs, 'spec.ipFamilyPolicy', spec['ipFamilyPolicy'], ipFamilyPolicies)
  listAt(spec['ipFamilies']).forEach((f, i) => oneOf(errs, `spec.ipFamilies[${i}]`, f, ipFamilies))
  validateClusterIPs(errs, spec, forms)
  const ports = listAt(spec['ports'])
  if (ports.length === 0 && type !== 'ExternalName' && spec['clusterIP'] !== 'None') errs.required('spec.ports')
  validateServicePorts(errs, ports, type)
  if (type === 'ExternalName' && (typeof spec['externalName'] !== 'string' || spec['externalName'] === '')) errs.required('spec.externalName')
  listAt(spec['externalIPs']).forEach((ip, i) => validateNonSpecialIP(errs, `spec.externalIPs[${i}]`, ip, forms))
  listAt(spec['loadBalancerSourceRanges']).forEach((c, i) => validateCidr(errs, `spec.loadBalancerSourceRanges[${i}]`, c, forms))
  validateSourceRangesAnnotation(errs, obj, forms)
  if (typeof spec['loadBalancerIP'] === 'string' && spec['loadBalancerIP'] !== '') validateIP(errs, 'spec.loadBalancerIP', spec['loadBalancerIP'], forms)
  validateLabels(errs, 'spec.selector', spec['selector'])
  const affinity = spec['sessionAffinityConfig']
  if (isObject(affinity) && isObject(affinity['clientIP'])) {
    const t = affinity['clientIP']['timeoutSeconds']
    if (t !== undefined && !(typeof t === 'number' && t >= 1 && t <= 86400)) {
      errs.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, 'must be greater than 0 and less than 86400')
    }
  }
  const hc = spec['healthCheckNodePort']
  if (hc !== undefined && hc !== 0 && !isPortNumber(hc)) errs.invalid('spec.healthCheckNodePort', hc, 'must be between 1 and 65535, inclusive')
  validateLoadBalancerStatus(errs, obj, forms)
}

function validateClusterIPs(errs: FieldErrors, spec: Record<string, unknown>, forms: IPForms): void {
  const clusterIP = spec['clusterIP']
  const clusterIPs = spec['clusterIPs']
  const check = (path: string, ip: unknown): void => {
    if (ip !== '' && ip !== 'None') validateIP(errs, path, ip, forms)
  }
  if (!Array.isArray(clusterIPs) || clusterIPs.length === 0) {
    if (clusterIP !== undefined) check('spec.clusterIP', clusterIP)
    return
  }
  clusterIPs.forEach((ip, i) => check(`spec.clusterIPs[${i}]`, ip))
  if (clusterIP !== undefined && clusterIP !== '' && clusterIPs[0] !== clusterIP) errs.invalid('spec.clusterIPs[0]', clusterIPs[0], 'must match `spec.clusterIP`')
}

function validateServicePorts(errs: FieldErrors, ports: readonly unknown[], type: unknown): void {
  const names = new Set<string>()
  const seen = new Set<string>()
  ports.forEach((p, i) => {
    const path = `spec.ports[${i}]`
    if (!isObject(p)) return errs.invalid(path, p, 'must be an object')
    if (!isPortNumber(p['port'])) errs.invalid(`${path}.port`, p['port'], 'must be between 1 and 65535, inclusive')
    const protocol = p['protocol'] ?? 'TCP'
    oneOf(errs, `${path}.protocol`, protocol, protocols)
    const name = p['name']
    if (ports.length > 1 && (name === undefined || name === '')) errs.required(`${path}.name`, 'Required value: name is required when a Service has more than one port')
    if (typeof name === 'string' && name !== '') {
      if (!isDns1123Label(name)) errs.invalid(`${path}.name`, name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character")
      if (names.has(name)) errs.duplicate(`${path}.name`, name)
      names.add(name)
    }
    const key = `${String(p['port'])}/${String(protocol)}`
    if (seen.has(key)) errs.duplicate(path, key)
    seen.add(key)
    const np = p['nodePort']
    if (np !== undefined && np !== 0) {
      if (!isPortNumber(np)) errs.invalid(`${path}.nodePort`, np, 'must be between 1 and 65535, inclusive')
      if (type === 'ClusterIP' || type === 'ExternalName') errs.forbidden(`${path}.nodePort`, `may not be used when \`type\` is '${String(type)}'`)
    }
    const tp = p['targetPort']
    if (typeof tp === 'number' && !isPortNumber(tp)) errs.invalid(`${path}.targetPort`, tp, 'must be between 1 and 65535, inclusive')
    if (typeof tp === 'string' && !isIanaSvcName(tp)) {
      errs.invalid(`${path}.targetPort`, tp, "must contain at most 15 characters, only lowercase alphanumerics or '-', with at least one letter")
    }
  })
}

/** The proxier reads this annotation when the field is empty, so a bad entry must not pass either. */
function validateSourceRangesAnnotation(errs: FieldErrors, obj: Record<string, unknown>, forms: IPForms): void {
  const meta = obj['metadata']
  const annotations = isObject(meta) && isObject(meta['annotations']) ? meta['annotations'] : undefined
  const value = annotations !== undefined && Object.hasOwn(annotations, sourceRangesAnnotation) ? annotations[sourceRangesAnnotation] : undefined
  if (typeof value !== 'string' || value.trim() === '') return
  const path = `metadata.annotations[${sourceRangesAnnotation}]`
  const sub = new FieldErrors()
  for (const part of value.split(',')) validateCidr(sub, path, part, forms)
  if (!sub.ok) errs.invalid(path, value, 'must be a comma separated list of CIDRs e.g. 192.168.0.0/16,10.0.0.0/8')
}

function validateLoadBalancerStatus(errs: FieldErrors, obj: Record<string, unknown>, forms: IPForms): void {
  const status = obj['status']
  if (!isObject(status) || !isObject(status['loadBalancer'])) return
  listAt(status['loadBalancer']['ingress']).forEach((ing, i) => {
    if (isObject(ing) && ing['ip'] !== undefined && ing['ip'] !== '') validateIP(errs, `status.loadBalancer.ingress[${i}].ip`, ing['ip'], forms)
  })
}
