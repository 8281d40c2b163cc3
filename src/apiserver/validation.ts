/**
 * Object validation producing kube-apiserver style causes (field path, reason, message):
 * names, labels, and the structural rules of the served kinds that kubectl users hit first.
 * Pure. An interim home until src/api owns validation; then this delegates there.
 */
import { parseIP } from '../net/index.js'
import type { KubeObject } from '../store/index.js'
import type { StatusCause } from './api-error.js'

type Obj = Record<string, unknown>

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const qualifiedName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/

const subdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
const labelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
const dns1035Msg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

function required(field: string, detail = ''): StatusCause {
  return { reason: 'FieldValueRequired', field, message: `Required value${detail ? `: ${detail}` : ''}` }
}
function badValue(field: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` }
}
function unsupported(field: string, value: unknown, supported: readonly string[]): StatusCause {
  return { reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}` }
}
function duplicate(field: string, value: unknown): StatusCause {
  return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${JSON.stringify(value)}` }
}

function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? (v as Obj[]) : []
}
function objAt(o: unknown, key: string): Obj | undefined {
  const v = typeof o === 'object' && o !== null ? (o as Obj)[key] : undefined
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined
}
function isPort(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535
}

export type NameRule = 'subdomain' | 'label' | 'dns1035'

export function nameRuleFor(kind: string): NameRule {
  switch (kind) {
    case 'Namespace': return 'label'
    case 'Service': return 'dns1035'
    default: return 'subdomain'
  }
}

function validateName(name: string, rule: NameRule): string | undefined {
  if (rule === 'label') return name.length <= 63 && dns1123Label.test(name) ? undefined : labelMsg
  if (rule === 'dns1035') return name.length <= 63 && dns1035Label.test(name) ? undefined : dns1035Msg
  return name.length <= 253 && dns1123Subdomain.test(name) ? undefined : subdomainMsg
}

function validateLabels(labels: unknown, field: string): StatusCause[] {
  if (labels === undefined) return []
  if (typeof labels !== 'object' || labels === null) return [badValue(field, labels, 'must be a map of strings')]
  const out: StatusCause[] = []
  for (const [k, v] of Object.entries(labels)) {
    const [prefix, name] = k.includes('/') ? [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)] : ['', k]
    if (name.length > 63 || !qualifiedName.test(name) || (prefix !== '' && !dns1123Subdomain.test(prefix))) {
      out.push(badValue(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"))
    }
    if (typeof v !== 'string' || v.length > 63 || !labelValue.test(v)) {
      out.push(badValue(field, v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"))
    }
  }
  return out
}

export function validateMeta(o: KubeObject, kind: string): StatusCause[] {
  const out: StatusCause[] = []
  const name = o.metadata.name
  if (!name) out.push(required('metadata.name', 'name or generateName is required'))
  else {
    const msg = validateName(name, nameRuleFor(kind))
    if (msg) out.push(badValue('metadata.name', name, msg))
  }
  out.push(...validateLabels(o.metadata.labels, 'metadata.labels'))
  if (o.metadata.annotations !== undefined && (typeof o.metadata.annotations !== 'object' || Object.values(o.metadata.annotations).some((v) => typeof v !== 'string'))) {
    out.push(badValue('metadata.annotations', o.metadata.annotations, 'must be a map of strings'))
  }
  return out
}

const protocols = ['SCTP', 'TCP', 'UDP'] as const
const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const

function validateService(o: KubeObject): StatusCause[] {
  const out: StatusCause[] = []
  const spec = objAt(o, 'spec') ?? {}
  const type = spec['type'] ?? 'ClusterIP'
  if (!serviceTypes.includes(type as never)) out.push(unsupported('spec.type', type, serviceTypes))
  const ports = arr(spec['ports'])
  if (ports.length === 0 && type !== 'ExternalName' && spec['clusterIP'] !== 'None') out.push(required('spec.ports'))
  const names = new Set<string>()
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`
    if (!isPort(p['port'])) out.push(badValue(`${f}.port`, p['port'], 'must be between 1 and 65535, inclusive'))
    if (p['protocol'] !== undefined && !protocols.includes(p['protocol'] as never)) out.push(unsupported(`${f}.protocol`, p['protocol'], protocols))
    const name = p['name']
    if (ports.length > 1 && (name === undefined || name === '')) out.push(required(`${f}.name`))
    if (typeof name === 'string' && name !== '') {
      if (names.has(name)) out.push(duplicate(`${f}.name`, name))
      names.add(name)
    }
    const np = p['nodePort']
    if (np !== undefined && np !== 0 && !isPort(np)) out.push(badValue(`${f}.nodePort`, np, 'must be between 1 and 65535, inclusive'))
    if (np !== undefined && np !== 0 && type === 'ClusterIP') out.push({ reason: 'FieldValueForbidden', field: `${f}.nodePort`, message: 'Forbidden: may not be used when `type` is \'ClusterIP\'' })
    const tp = p['targetPort']
    if (typeof tp === 'number' && !isPort(tp)) out.push(badValue(`${f}.targetPort`, tp, 'must be between 1 and 65535, inclusive'))
  })
  const ips = [spec['clusterIP'], ...arr(spec['clusterIPs'])].filter((x) => x !== undefined && x !== '' && x !== 'None')
  ips.forEach((ip) => {
    if (typeof ip !== 'string' || parseIP(ip) === undefined) out.push(badValue('spec.clusterIPs[0]', ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'))
  })
  if (type === 'ExternalName' && !spec['externalName']) out.push(required('spec.externalName'))
  return out
}

function validateContainers(spec: Obj | undefined, field: string): StatusCause[] {
  const out: StatusCause[] = []
  const containers = arr(spec?.['containers'])
  if (containers.length === 0) out.push(required(`${field}.containers`))
  const names = new Set<string>()
  containers.forEach((c, i) => {
    const f = `${field}.containers[${i}]`
    if (!c['name']) out.push(required(`${f}.name`))
    else if (names.has(String(c['name']))) out.push(duplicate(`${f}.name`, c['name']))
    else names.add(String(c['name']))
    if (!c['image']) out.push(required(`${f}.image`))
    arr(c['ports']).forEach((p, j) => {
      if (!isPort(p['containerPort'])) out.push(badValue(`${f}.ports[${j}].containerPort`, p['containerPort'], 'must be between 1 and 65535, inclusive'))
      if (p['protocol'] !== undefined && !protocols.includes(p['protocol'] as never)) out.push(unsupported(`${f}.ports[${j}].protocol`, p['protocol'], protocols))
    })
  })
  return out
}

function validateWorkload(o: KubeObject): StatusCause[] {
  const out: StatusCause[] = []
  const spec = objAt(o, 'spec') ?? {}
  const replicas = spec['replicas']
  if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)) {
    out.push(badValue('spec.replicas', replicas, 'must be greater than or equal to 0'))
  }
  const selector = objAt(spec, 'selector')
  const matchLabels = (objAt(selector, 'matchLabels') ?? {}) as Record<string, string>
  if (!selector || (Object.keys(matchLabels).length === 0 && arr(selector['matchExpressions']).length === 0)) {
    out.push(required('spec.selector'))
  }
  const template = objAt(spec, 'template')
  const tLabels = (objAt(objAt(template, 'metadata'), 'labels') ?? {}) as Record<string, string>
  if (selector && Object.entries(matchLabels).some(([k, v]) => tLabels[k] !== v)) {
    out.push(badValue('spec.template.metadata.labels', tLabels, '`selector` does not match template `labels`'))
  }
  out.push(...validateLabels(objAt(template, 'metadata')?.['labels'], 'spec.template.metadata.labels'))
  out.push(...validateContainers(objAt(template, 'spec'), 'spec.template.spec'))
  return out
}

function validateEndpointSlice(o: KubeObject): StatusCause[] {
  const at = o['addressType']
  const types = ['FQDN', 'IPv4', 'IPv6']
  if (at === undefined) return [required('addressType')]
  return types.includes(at as string) ? [] : [unsupported('addressType', at, types)]
}

export function validateObject(o: KubeObject, kind: string): StatusCause[] {
  const out = validateMeta(o, kind)
  switch (kind) {
    case 'Service': out.push(...validateService(o)); break
    case 'Pod': out.push(...validateContainers(objAt(o, 'spec'), 'spec')); break
    case 'Deployment': case 'ReplicaSet': out.push(...validateWorkload(o)); break
    case 'EndpointSlice': out.push(...validateEndpointSlice(o)); break
    default: break
  }
  return out
}
