/**
 * The addresses a Service is reached at, decoded once for every consumer (the rule builders, the
 * userspace index, trace): ClusterIPs, externalIPs, and the LoadBalancer ingress IPs kube-proxy
 * captures. All families; callers pick theirs. Unparsable addresses are left out; a field of the
 * wrong type throws, naming the field.
 */
import type { Service } from '../../api/index.js'
import { parseIPSloppy, type IPAddress } from '../../net/index.js'

export interface ClusterAddresses {
  /** spec.clusterIPs, or spec.clusterIP when clusterIPs is unset or empty; `None` (headless) is no address. */
  readonly clusterIPs: readonly IPAddress[]
  readonly externalIPs: readonly IPAddress[]
  /**
   * status.loadBalancer.ingress IPs, except `ipMode: Proxy` ones: upstream kube-proxy does not
   * capture those (the load balancer proxies to the node, so traffic for them must leave the node).
   */
  readonly loadBalancerIPs: readonly IPAddress[]
}

export function clusterAddresses(svc: Service): ClusterAddresses {
  const spec = svc.spec
  const clusterIPTexts = spec.clusterIPs && list(spec.clusterIPs, 'spec.clusterIPs').length > 0 ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : []
  const ingress = list(svc.status?.loadBalancer?.ingress ?? [], 'status.loadBalancer.ingress').filter((ing) => ing.ipMode !== 'Proxy')
  return {
    clusterIPs: parsed(clusterIPTexts.filter((ip) => ip !== 'None')),
    externalIPs: parsed(list(spec.externalIPs ?? [], 'spec.externalIPs')),
    loadBalancerIPs: parsed(ingress.map((ing) => ing.ip)),
  }
}

/**
 * A list field as the type says it is. The store can still hold a wrong-typed object written
 * before validation; throwing here lets each consumer skip and report that one Service.
 */
function list<T>(value: readonly T[], field: string): readonly T[] {
  if (!Array.isArray(value)) throw new TypeError(`${field}: expected a list, got ${typeof value}`)
  return value
}

function parsed(texts: readonly (string | undefined)[]): IPAddress[] {
  const out: IPAddress[] = []
  for (const t of texts) {
    const ip = t === undefined || t === '' ? undefined : parseIPSloppy(t)
    if (ip !== undefined) out.push(ip)
  }
  return out
}
