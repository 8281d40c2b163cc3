/**
 * What kube-proxy's service health server answers on a node (upstream pkg/proxy/healthcheck):
 * for every LoadBalancer Service with externalTrafficPolicy Local, its healthCheckNodePort and
 * the number of ready endpoints on this node. Cloud load balancers probe it and skip nodes that
 * answer 503, which is how Local policy avoids black-holing traffic.
 */
import type { ProxyState } from './proxy-state.js'
import { servicePortKey } from './service-port.js'

export interface ServiceHealthCheck {
  readonly namespace: string
  readonly name: string
  readonly healthCheckNodePort: number
  /** Distinct addresses of ready endpoints on this node, over all the Service's ports. */
  readonly localEndpoints: number
}

export function serviceHealthChecks(state: ProxyState): ServiceHealthCheck[] {
  const byService = new Map<string, { namespace: string; name: string; port: number; local: Set<string> }>()
  for (const sp of state.servicePorts) {
    if (sp.healthCheckNodePort === 0) continue
    const key = `${sp.name.namespace}/${sp.name.name}`
    let entry = byService.get(key)
    if (!entry) byService.set(key, (entry = { namespace: sp.name.namespace, name: sp.name.name, port: sp.healthCheckNodePort, local: new Set() }))
    for (const ep of state.endpoints.get(servicePortKey(sp.name)) ?? []) if (ep.isLocal && ep.ready) entry.local.add(ep.ip)
  }
  return [...byService.values()].map((e) => ({ namespace: e.namespace, name: e.name, healthCheckNodePort: e.port, localEndpoints: e.local.size }))
}

/** The response upstream writes: 200 with local endpoints and a healthy proxy, else 503; the JSON body either way. */
export function healthCheckResponse(check: ServiceHealthCheck, proxyHealthy: boolean): { status: 200 | 503; body: string } {
  const body = JSON.stringify({ service: { namespace: check.namespace, name: check.name }, localEndpoints: check.localEndpoints, serviceProxyHealthy: proxyHealthy }, null, '\t')
  return { status: check.localEndpoints > 0 && proxyHealthy ? 200 : 503, body }
}
