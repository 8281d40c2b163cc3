/**
 * Validation of the objects kpe reads, with kube-apiserver's field paths. Lenient where
 * kube-proxy is lenient (legacy IPv4 forms with leading zeros are accepted, as the golden
 * vectors need), strict about structure, ranges, duplicates and unknown fields.
 */
import { parseCidrSloppy, parseIPSloppy, protocols } from '../net/index.js'
import { checkKnownFields, FieldErrors, isObject } from './field-errors.js'
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, isIanaSvcName, isLabelValue, isQualifiedName } from './validate-names.js'

const serviceSpecFields = [
  'type', 'clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'selector', 'ports', 'externalIPs', 'externalName',
  'loadBalancerIP', 'loadBalancerSourceRanges', 'loadBalancerClass', 'allocateLoadBalancerNodePorts', 'externalTrafficPolicy',
  'internalTrafficPolicy', 'healthCheckNodePort', 'sessionAffinity', 'sessionAffinityConfig', 'publishNotReadyAddresses',
  'trafficDistribution',
] as const
const servicePortFields = ['name', 'protocol', 'port', 'targetPort', 'nodePort', 'appProtocol'] as const
const metadataFields = [
  'name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields', 'selfLink',
] as const

function isPortNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535
}

export function validateMetadata(errs: FieldErrors, meta: unknown, opts: { namespaced: boolean; nameRule?: 'dns1035' | 'dns1123-subdomain' }): void {
  if (!isObject(meta)) {
    errs.required('metadata')
    return
  }
  checkKnownFields(errs, 'metadata', meta, metadataFields)
  const name = meta['name']
  if (typeof name !== 'string' || name === '') {
    if (typeof meta['generateName'] !== 'string') errs.required('metadata.name', 'name or generateName is required')
  } else if (opts.nameRule === 'dns1035' ? !isDns1035Label(name) : !isDns1123Subdomain(name)) {
    errs.invalid('metadata.name', name, opts.nameRule === 'dns1035'
      ? "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
      : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character")
  }
  const ns = meta['namespace']
  if (opts.namespaced && ns !== undefined && (typeof ns !== 'string' || !isDns1123Label(ns))) {
    errs.invalid('metadata.namespace', ns, 'a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\'')
  }
  validateLabels(errs, 'metadata.labels', meta['labels'])
}

export function validateLabels(errs: FieldErrors, path: string, labels: unknown): void {
  if (labels === undefined) return
  if (!isObject(labels)) {
    errs.invalid(path, labels, 'must be a map of string keys to string values')
    return
  }
  for (const [k, v] of Object.entries(labels)) {
    if (!isQualifiedName(k)) errs.invalid(`${path}`, k, 'name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character')
    if (typeof v !== 'string' || !isLabelValue(v)) errs.invalid(`${path}.${k}`, v, 'a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character')
  }
}

function validateIP(errs: FieldErrors, path: string, v: unknown): void {
  if (typeof v !== 'string' || parseIPSloppy(v) === undefined) errs.invalid(path, v, 'must be a valid IP address')
}

function oneOf<T extends string>(errs: FieldErrors, path: string, v: unknown, allowed: readonly T[]): void {
  if (v !== undefined && !allowed.includes(v as T)) errs.notSupported(path, v, allowed)
}

export function validateService(obj: Record<string, unknown>, opts: { strictFields: boolean }): FieldErrors {
  const errs = new FieldErrors()
  validateMetadata(errs, obj['metadata'], { namespaced: true, nameRule: 'dns1035' })
  const spec = obj['spec']
  if (!isObject(spec)) {
    errs.required('spec')
    return errs
  }
  if (opts.strictFields) checkKnownFields(errs, 'spec', spec, serviceSpecFields)
  const type = spec['type'] ?? 'ClusterIP'
  oneOf(errs, 'spec.type', type, ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'])
  oneOf(errs, 'spec.externalTrafficPolicy', spec['externalTrafficPolicy'], ['Cluster', 'Local'])
  oneOf(errs, 'spec.internalTrafficPolicy', spec['internalTrafficPolicy'], ['Cluster', 'Local'])
  oneOf(errs, 'spec.sessionAffinity', spec['sessionAffinity'], ['None', 'ClientIP'])
  oneOf(errs, 'spec.ipFamilyPolicy', spec['ipFamilyPolicy'], ['SingleStack', 'PreferDualStack', 'RequireDualStack'])
  const clusterIP = spec['clusterIP']
  if (clusterIP !== undefined && clusterIP !== '' && clusterIP !== 'None') validateIP(errs, 'spec.clusterIP', clusterIP)
  const clusterIPs = spec['clusterIPs']
  if (clusterIPs !== undefined) {
    if (!Array.isArray(clusterIPs)) errs.invalid('spec.clusterIPs', clusterIPs, 'must be a list')
    else {
      clusterIPs.forEach((ip, i) => { if (ip !== 'None') validateIP(errs, `spec.clusterIPs[${i}]`, ip) })
      if (clusterIP !== undefined && clusterIPs.length > 0 && clusterIPs[0] !== clusterIP) {
        errs.invalid('spec.clusterIPs[0]', clusterIPs[0], 'must match `spec.clusterIP`')
      }
    }
  }
  const families = spec['ipFamilies']
  if (Array.isArray(families)) families.forEach((f, i) => oneOf(errs, `spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']))
  listOf(spec['externalIPs'], 'spec.externalIPs', errs, (v, p) => validateIP(errs, p, v))
  listOf(spec['loadBalancerSourceRanges'], 'spec.loadBalancerSourceRanges', errs, (v, p) => {
    if (typeof v !== 'string' || parseCidrSloppy(v.trim()) === undefined) errs.invalid(p, v, 'must be a valid CIDR, for example 203.0.113.0/24')
  })
  validateLabels(errs, 'spec.selector', spec['selector'])
  const affinity = spec['sessionAffinityConfig']
  if (isObject(affinity) && isObject(affinity['clientIP'])) {
    const t = affinity['clientIP']['timeoutSeconds']
    if (t !== undefined && !(typeof t === 'number' && Number.isInteger(t) && t >= 1 && t <= 86400)) {
      errs.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, 'must be greater than 0 and less than 86400')
    }
  }
  const hc = spec['healthCheckNodePort']
  if (hc !== undefined && hc !== 0 && !isPortNumber(hc)) errs.invalid('spec.healthCheckNodePort', hc, 'must be between 1 and 65535, inclusive')
  const ports = spec['ports']
  if (type !== 'ExternalName' && clusterIP !== 'None' && (!Array.isArray(ports) || ports.length === 0)) errs.required('spec.ports')
  if (Array.isArray(ports)) validateServicePorts(errs, ports, opts)
  for (const ing of ingressList(obj)) {
    if (ing.value.ip !== undefined) validateIP(errs, `${ing.path}.ip`, ing.value.ip)
  }
  return errs
}

function ingressList(obj: Record<string, unknown>): { path: string; value: Record<string, unknown> }[] {
  const status = obj['status']
  if (!isObject(status) || !isObject(status['loadBalancer'])) return []
  const ingress = status['loadBalancer']['ingress']
  if (!Array.isArray(ingress)) return []
  return ingress.filter(isObject).map((value, i) => ({ path: `status.loadBalancer.ingress[${i}]`, value }))
}

function listOf(v: unknown, path: string, errs: FieldErrors, each: (item: unknown, path: string) => void): void {
  if (v === undefined) return
  if (!Array.isArray(v)) {
    errs.invalid(path, v, 'must be a list')
    return
  }
  v.forEach((item, i) => each(item, `${path}[${i}]`))
}

function validateServicePorts(errs: FieldErrors, ports: unknown[], opts: { strictFields: boolean }): void {
  const names = new Set<string>()
  const seen = new Set<string>()
  ports.forEach((p, i) => {
    const path = `spec.ports[${i}]`
    if (!isObject(p)) {
      errs.invalid(path, p, 'must be an object')
      return
    }
    if (opts.strictFields) checkKnownFields(errs, path, p, servicePortFields)
    const name = p['name']
    if (ports.length > 1 && (name === undefined || name === '')) errs.required(`${path}.name`, 'Required value: name is required when a Service has more than one port')
    if (typeof name === 'string' && name !== '') {
      if (!isDns1123Label(name)) errs.invalid(`${path}.name`, name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'")
      if (names.has(name)) errs.duplicate(`${path}.name`, name)
      names.add(name)
    }
    const protocol = p['protocol'] ?? 'TCP'
    oneOf(errs, `${path}.protocol`, protocol, protocols)
    if (!isPortNumber(p['port'])) errs.invalid(`${path}.port`, p['port'], 'must be between 1 and 65535, inclusive')
    const key = `${String(p['port'])}/${String(protocol)}`
    if (seen.has(key)) errs.duplicate(`${path}`, key)
    seen.add(key)
    const np = p['nodePort']
    if (np !== undefined && np !== 0 && !isPortNumber(np)) errs.invalid(`${path}.nodePort`, np, 'must be between 1 and 65535, inclusive')
    const tp = p['targetPort']
    if (tp !== undefined) {
      if (typeof tp === 'number') {
        if (!isPortNumber(tp)) errs.invalid(`${path}.targetPort`, tp, 'must be between 1 and 65535, inclusive')
      } else if (typeof tp !== 'string' || !isIanaSvcName(tp)) {
        errs.invalid(`${path}.targetPort`, tp, 'must contain at most 15 characters, only lowercase alphanumerics or \'-\', with at least one letter')
      }
    }
  })
}

const endpointSliceFields = ['apiVersion', 'kind', 'metadata', 'addressType', 'endpoints', 'ports'] as const
const endpointFields = ['addresses', 'conditions', 'hostname', 'nodeName', 'zone', 'hints', 'targetRef', 'deprecatedTopology'] as const

export function validateEndpointSlice(obj: Record<string, unknown>, opts: { strictFields: boolean }): FieldErrors {
  const errs = new FieldErrors()
  validateMetadata(errs, obj['metadata'], { namespaced: true })
  if (opts.strictFields) checkKnownFields(errs, '', obj, endpointSliceFields)
  const addressType = obj['addressType']
  if (addressType === undefined) errs.required('addressType')
  else oneOf(errs, 'addressType', addressType, ['IPv4', 'IPv6', 'FQDN'])
  listOf(obj['endpoints'] ?? [], 'endpoints', errs, (ep, path) => {
    if (!isObject(ep)) return errs.invalid(path, ep, 'must be an object')
    if (opts.strictFields) checkKnownFields(errs, path, ep, endpointFields)
    const addrs = ep['addresses']
    if (!Array.isArray(addrs) || addrs.length === 0) return errs.required(`${path}.addresses`, 'Required value: must contain at least 1 address')
    addrs.forEach((a, j) => {
      if (addressType === 'FQDN') return
      const ip = typeof a === 'string' ? parseIPSloppy(a) : undefined
      if (ip === undefined) errs.invalid(`${path}.addresses[${j}]`, a, 'must be a valid IP address')
      else if ((ip.includes(':') ? 'IPv6' : 'IPv4') !== addressType) errs.invalid(`${path}.addresses[${j}]`, a, `must be an ${String(addressType)} address`)
    })
    const cond = ep['conditions']
    if (cond !== undefined) {
      if (!isObject(cond)) errs.invalid(`${path}.conditions`, cond, 'must be an object')
      else for (const c of ['ready', 'serving', 'terminating']) {
        if (cond[c] !== undefined && typeof cond[c] !== 'boolean') errs.invalid(`${path}.conditions.${c}`, cond[c], 'must be a boolean')
      }
    }
  })
  const names = new Set<string>()
  listOf(obj['ports'], 'ports', errs, (p, path) => {
    if (!isObject(p)) return errs.invalid(path, p, 'must be an object')
    const port = p['port']
    if (port !== undefined && !isPortNumber(port)) errs.invalid(`${path}.port`, port, 'must be between 1 and 65535, inclusive')
    oneOf(errs, `${path}.protocol`, p['protocol'] ?? 'TCP', protocols)
    const name = p['name']
    if (typeof name === 'string') {
      if (names.has(name)) errs.duplicate(`${path}.name`, name)
      names.add(name)
    }
  })
  return errs
}

export function validateNode(obj: Record<string, unknown>): FieldErrors {
  const errs = new FieldErrors()
  validateMetadata(errs, obj['metadata'], { namespaced: false })
  const spec = obj['spec']
  if (isObject(spec)) {
    if (spec['podCIDR'] !== undefined && (typeof spec['podCIDR'] !== 'string' || parseCidrSloppy(spec['podCIDR']) === undefined)) {
      errs.invalid('spec.podCIDR', spec['podCIDR'], 'must be a valid CIDR')
    }
    listOf(spec['podCIDRs'], 'spec.podCIDRs', errs, (c, p) => {
      if (typeof c !== 'string' || parseCidrSloppy(c) === undefined) errs.invalid(p, c, 'must be a valid CIDR')
    })
  }
  const status = obj['status']
  if (isObject(status)) {
    listOf(status['addresses'], 'status.addresses', errs, (a, p) => {
      if (!isObject(a)) return errs.invalid(p, a, 'must be an object')
      oneOf(errs, `${p}.type`, a['type'], ['InternalIP', 'ExternalIP', 'Hostname', 'InternalDNS', 'ExternalDNS'])
      if ((a['type'] === 'InternalIP' || a['type'] === 'ExternalIP')) validateIP(errs, `${p}.address`, a['address'])
    })
  }
  return errs
}

export function validatePod(obj: Record<string, unknown>): FieldErrors {
  const errs = new FieldErrors()
  validateMetadata(errs, obj['metadata'], { namespaced: true })
  const spec = obj['spec']
  if (!isObject(spec)) {
    errs.required('spec')
    return errs
  }
  const containers = spec['containers']
  if (!Array.isArray(containers) || containers.length === 0) errs.required('spec.containers')
  else {
    const portNames = new Set<string>()
    containers.forEach((c, i) => {
      const path = `spec.containers[${i}]`
      if (!isObject(c)) return errs.invalid(path, c, 'must be an object')
      if (typeof c['name'] !== 'string' || !isDns1123Label(c['name'])) errs.invalid(`${path}.name`, c['name'], 'must be a DNS-1123 label')
      listOf(c['ports'], `${path}.ports`, errs, (p, pp) => {
        if (!isObject(p)) return errs.invalid(pp, p, 'must be an object')
        if (!isPortNumber(p['containerPort'])) errs.invalid(`${pp}.containerPort`, p['containerPort'], 'must be between 1 and 65535, inclusive')
        oneOf(errs, `${pp}.protocol`, p['protocol'] ?? 'TCP', protocols)
        const name = p['name']
        if (name !== undefined) {
          if (typeof name !== 'string' || !isIanaSvcName(name)) errs.invalid(`${pp}.name`, name, 'must be no more than 15 characters, lowercase alphanumerics or \'-\', with at least one letter')
          else if (portNames.has(name)) errs.duplicate(`${pp}.name`, name)
          else portNames.add(name)
        }
      })
    })
  }
  const status = obj['status']
  if (isObject(status)) {
    if (status['podIP'] !== undefined) validateIP(errs, 'status.podIP', status['podIP'])
    listOf(status['podIPs'], 'status.podIPs', errs, (p, pp) => validateIP(errs, `${pp}.ip`, isObject(p) ? p['ip'] : p))
  }
  return errs
}
