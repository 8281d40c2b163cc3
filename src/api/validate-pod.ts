/**
 * Pod and pod-template validation (containers, ports, pod IPs) and the workloads that carry a
 * template (Deployment, ReplicaSet: replicas, selector, template labels). kube-apiserver's
 * rules for the fields the scheduler, kubelet, controllers and tables read.
 */
import { protocols } from '../net/index.js'
import { FieldErrors, isObject } from './field-errors.js'
import { parseIPField, validateIP, type IPForms } from './validate-ip.js'
import { validateLabels, validateLabelSelector, validateName } from './validate-metadata.js'
import { isDns1123Label, isIanaSvcName } from './validate-names.js'
import { isPortNumber, oneOf } from './validate-service.js'

export interface PodRules {
  readonly forms: IPForms
  /** kube-apiserver requires container images; `kpe rules -f` reads pods only for their IPs and ports. */
  readonly requireImages: boolean
}

function listAt(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

export function validatePodSpec(errs: FieldErrors, path: string, spec: unknown, rules: PodRules): void {
  if (!isObject(spec)) return errs.required(path)
  const containers = listAt(spec['containers'])
  if (containers.length === 0) errs.required(`${path}.containers`)
  const names = new Set<string>()
  const portNames = new Set<string>()
  const check = (list: readonly unknown[], field: string): void => list.forEach((c, i) => {
    const p = `${path}.${field}[${i}]`
    if (!isObject(c)) return errs.invalid(p, c, 'must be an object')
    const name = c['name']
    if (typeof name !== 'string' || name === '') errs.required(`${p}.name`)
    else if (!isDns1123Label(name)) errs.invalid(`${p}.name`, name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character")
    else if (names.has(name)) errs.duplicate(`${p}.name`, name)
    else names.add(name)
    if (rules.requireImages && (typeof c['image'] !== 'string' || c['image'].trim() === '')) errs.required(`${p}.image`)
    listAt(c['ports']).forEach((port, j) => validateContainerPort(errs, `${p}.ports[${j}]`, port, portNames))
  })
  check(containers, 'containers')
  check(listAt(spec['initContainers']), 'initContainers')
  const nodeName = spec['nodeName']
  if (typeof nodeName === 'string' && nodeName !== '') validateName(errs, `${path}.nodeName`, nodeName, 'dns1123-subdomain')
}

function validateContainerPort(errs: FieldErrors, path: string, p: unknown, names: Set<string>): void {
  if (!isObject(p)) return errs.invalid(path, p, 'must be an object')
  if (!isPortNumber(p['containerPort'])) errs.invalid(`${path}.containerPort`, p['containerPort'], 'must be between 1 and 65535, inclusive')
  const hostPort = p['hostPort']
  if (hostPort !== undefined && hostPort !== 0 && !isPortNumber(hostPort)) errs.invalid(`${path}.hostPort`, hostPort, 'must be between 1 and 65535, inclusive')
  oneOf(errs, `${path}.protocol`, p['protocol'] ?? 'TCP', protocols)
  const name = p['name']
  if (name === undefined || name === '') return
  if (typeof name !== 'string' || !isIanaSvcName(name)) errs.invalid(`${path}.name`, name, "must contain at most 15 characters, only lowercase alphanumerics or '-', with at least one letter")
  else if (names.has(name)) errs.duplicate(`${path}.name`, name)
  else names.add(name)
}

export function validatePodStatus(errs: FieldErrors, status: unknown, forms: IPForms): void {
  if (!isObject(status)) return
  const podIP = status['podIP']
  if (podIP !== undefined && podIP !== '') validateIP(errs, 'status.podIP', podIP, forms)
  const podIPs = listAt(status['podIPs'])
  podIPs.forEach((p, i) => {
    if (!isObject(p)) return errs.invalid(`status.podIPs[${i}]`, p, 'must be an object')
    validateIP(errs, `status.podIPs[${i}].ip`, p['ip'], forms)
  })
  const first = isObject(podIPs[0]) ? podIPs[0]['ip'] : undefined
  const [a, b] = [parseIPField(podIP, forms), parseIPField(first, forms)]
  if (a !== undefined && b !== undefined && a !== b) errs.invalid('status.podIPs[0].ip', first, 'must match `status.podIP`')
  const hostIP = status['hostIP']
  if (hostIP !== undefined && hostIP !== '') validateIP(errs, 'status.hostIP', hostIP, forms)
  listAt(status['hostIPs']).forEach((p, i) => {
    if (isObject(p)) validateIP(errs, `status.hostIPs[${i}].ip`, p['ip'], forms)
  })
}

/** Deployment and ReplicaSet: replicas, a non-empty selector that matches the template's labels, the pod template. */
export function validateWorkload(errs: FieldErrors, obj: Record<string, unknown>, rules: PodRules): void {
  const spec = isObject(obj['spec']) ? obj['spec'] : {}
  const replicas = spec['replicas']
  if (replicas !== undefined && !(typeof replicas === 'number' && replicas >= 0)) errs.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')
  for (const f of ['minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds']) {
    const v = spec[f]
    if (typeof v === 'number' && v < 0) errs.invalid(`spec.${f}`, v, 'must be greater than or equal to 0')
  }
  const selector = isObject(spec['selector']) ? spec['selector'] : undefined
  const matchLabels = selector && isObject(selector['matchLabels']) ? selector['matchLabels'] : {}
  if (!selector || (Object.keys(matchLabels).length === 0 && listAt(selector['matchExpressions']).length === 0)) errs.required('spec.selector')
  validateLabelSelector(errs, 'spec.selector', selector)
  const strategy = spec['strategy']
  if (isObject(strategy)) oneOf(errs, 'spec.strategy.type', strategy['type'], ['Recreate', 'RollingUpdate'])
  const template = isObject(spec['template']) ? spec['template'] : {}
  const templateMeta = isObject(template['metadata']) ? template['metadata'] : {}
  const templateLabels = isObject(templateMeta['labels']) ? templateMeta['labels'] : {}
  if (selector && Object.entries(matchLabels).some(([k, v]) => !Object.hasOwn(templateLabels, k) || templateLabels[k] !== v)) {
    errs.invalid('spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`')
  }
  validateLabels(errs, 'spec.template.metadata.labels', templateMeta['labels'])
  validatePodSpec(errs, 'spec.template.spec', template['spec'], rules)
}
