/**
 * The words `kpe rules --explain` prints above a rule, produced from its typed origin: the
 * object and field first (what a Service owner edits), then the config knob or the endpoint.
 */
import { assertNever } from '../../errors.js'
import type { EndpointRef, RuleOrigin, ServiceField, ServicePortOrigin } from './rule-origin.js'

export function describeOrigin(o: RuleOrigin): string {
  return o.kind === 'node' ? o.setting : describeServicePortOrigin(o)
}

function describeServicePortOrigin(o: ServicePortOrigin): string {
  const svc = `Service ${o.service.namespace}/${o.service.name}`
  const p = `spec.ports[${o.portIndex}]`
  const ep = o.endpoint ? endpointText(o.endpoint) : ''
  const f = o.field ? fieldText(o.field, p) : ''
  switch (o.role) {
    case 'reject-no-endpoints':
      return `${svc} ${f}, ${p}.port: no usable endpoint in its EndpointSlices`
    case 'drop-no-local-endpoints':
      return `${svc} ${f}, ${p}.port: no endpoint on this node under a Local traffic policy`
    case 'firewall-drop':
      return `${svc} spec.loadBalancerSourceRanges, ${f}, ${p}.port`
    case 'firewall-allow':
      return o.nodeIP !== undefined ? `${svc} ${f}; a source range holds the node IP ${o.nodeIP}` : `${svc} ${f}`
    case 'affinity':
      return `${svc} ${f}; ${ep}`
    case 'endpoint-select':
      return `${ep}${(o.endpointCount ?? 1) > 1 ? `: 1 of ${o.endpointCount} endpoints` : ''}`
    case 'hairpin-masquerade':
      return `${ep}: hairpin (the pod reaching itself)`
    case 'endpoint-dnat':
      return ep
    case 'capture':
    case 'masquerade-mark':
    case 'external-policy':
    case 'health-check-accept':
    case 'firewall-fallthrough': {
      const port = o.field && addressField(o.field) ? `, ${p}.port` : ''
      const itp = o.internalTrafficPolicy ? ', spec.internalTrafficPolicy' : ''
      const cfg = o.config ? `, KubeProxyConfiguration ${o.config}` : ''
      return `${svc} ${f}${port}${itp}${cfg}`
    }
    default:
      return assertNever(o.role)
  }
}

/** Fields that name an address: the rule matches it together with the Service port. */
function addressField(f: ServiceField): boolean {
  return f.path === 'spec.clusterIP' || f.path === 'spec.externalIPs' || f.path === 'status.loadBalancer.ingress'
}

function fieldText(f: ServiceField, portPath: string): string {
  switch (f.path) {
    case 'spec.externalIPs':
    case 'status.loadBalancer.ingress':
      return `${f.path} (${f.address})`
    case 'spec.ports[].nodePort':
      return `${portPath}.nodePort`
    case 'spec.loadBalancerSourceRanges':
      return f.range !== undefined ? `${f.path} (${f.range})` : f.path
    case 'spec.sessionAffinity':
      return 'spec.sessionAffinity, spec.sessionAffinityConfig'
    case 'spec.clusterIP':
    case 'spec.healthCheckNodePort':
    case 'spec.externalTrafficPolicy':
      return f.path
    default:
      return assertNever(f)
  }
}

function endpointText(e: EndpointRef): string {
  return `EndpointSlice ${e.slice} endpoint ${e.endpoint}${e.nodeName ? ` on ${e.nodeName}` : ''}`
}
