/**
 * The EndpointSlice controller's core as a pure function: Services with selectors plus Pods
 * -> EndpointSlices, with upstream's readiness/serving/terminating conditions, named-port
 * resolution, labels and a maximum of 100 endpoints per slice. The control plane and the
 * rule engine (for manifests without slices) both use it.
 */
import { chainHash, ipFamily, parseIPSloppy, type IPFamily } from '../net/index.js'
import type { EndpointSlice, EndpointSliceEndpoint, EndpointSlicePort, Node, Pod, Service } from './types.js'
import { endpointSliceControllerName, managedByLabel, serviceNameLabel, zoneLabel } from './types.js'
import { applyTopologyHints } from './topology-hints.js'
import { getOwn } from './own-property.js'

export const maxEndpointsPerSlice = 100

export function labelsMatch(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const [k, v] of Object.entries(selector)) if (getOwn(labels, k) !== v) return false
  return true
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

/** upstream ShouldPodBeInEndpoints: has an IP, not finished. Terminating pods stay (as terminating). */
function shouldPodBeInEndpoints(pod: Pod): boolean {
  const phase = pod.status?.phase
  if (phase === 'Succeeded' || phase === 'Failed') return false
  return podIPs(pod).length > 0
}

export function podIPs(pod: Pod): string[] {
  const fromList = pod.status?.podIPs?.map((p) => p.ip) ?? []
  const ips = fromList.length > 0 ? fromList : pod.status?.podIP ? [pod.status.podIP] : []
  return ips.flatMap((ip) => parseIPSloppy(ip) ?? [])
}

/** The address families a Service's endpoints are published for. */
export function serviceFamilies(svc: Service): IPFamily[] {
  if (svc.spec.ipFamilies && svc.spec.ipFamilies.length > 0) return [...svc.spec.ipFamilies]
  const ips = (svc.spec.clusterIPs ?? (svc.spec.clusterIP ? [svc.spec.clusterIP] : [])).filter((ip) => ip !== 'None' && ip !== '')
  if (ips.length > 0) return [...new Set(ips.map((ip) => ipFamily(ip)))]
  return ['IPv4']
}

/** upstream podutil.FindPort: a number is used as is; a name is looked up among the container ports. */
export function findPort(pod: Pod, targetPort: number | string | undefined, port: number, protocol: string): number | undefined {
  if (targetPort === undefined || targetPort === 0 || targetPort === '') return port
  if (typeof targetPort === 'number') return targetPort
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) if (p.name === targetPort && (p.protocol ?? 'TCP') === protocol) return p.containerPort
  }
  return undefined
}

export interface DeriveInput {
  readonly services: readonly Service[]
  readonly pods: readonly Pod[]
  readonly nodes: readonly Node[]
}

/**
 * Derives the EndpointSlices of every Service that has a selector. Output order: services by
 * namespace/name, then address family, then slices by port set; endpoints by pod name.
 */
export function deriveEndpointSlices(input: DeriveInput): EndpointSlice[] {
  const zoneOf = new Map(input.nodes.map((n) => [n.metadata.name ?? '', n.metadata.labels?.[zoneLabel]]))
  const podsByNs = new Map<string, Pod[]>()
  for (const pod of input.pods) {
    const ns = pod.metadata.namespace ?? 'default'
    // Appended in place: a copy per pod was quadratic (100,000 pods in one namespace, per reconcile).
    const inNs = podsByNs.get(ns)
    if (inNs) inNs.push(pod)
    else podsByNs.set(ns, [pod])
  }
  const out: EndpointSlice[] = []
  const services = [...input.services].sort((a, b) => cmp(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`))
  for (const svc of services) {
    const selector = svc.spec.selector
    if (!selector || Object.keys(selector).length === 0 || svc.spec.type === 'ExternalName') continue
    const pods = (podsByNs.get(svc.metadata.namespace ?? 'default') ?? [])
      .filter((p) => labelsMatch(selector, p.metadata.labels) && shouldPodBeInEndpoints(p))
      .sort((a, b) => cmp(a.metadata.name ?? '', b.metadata.name ?? ''))
    for (const family of serviceFamilies(svc)) out.push(...applyTopologyHints(svc, slicesForFamily(svc, pods, family, zoneOf), input.nodes))
  }
  return out
}

function slicesForFamily(svc: Service, pods: readonly Pod[], family: IPFamily, zoneOf: ReadonlyMap<string, string | undefined>): EndpointSlice[] {
  const publishNotReady = svc.spec.publishNotReadyAddresses === true
  // Pods whose named ports resolve differently land in different slices, keyed by their port set.
  const groups = new Map<string, { ports: EndpointSlicePort[]; endpoints: EndpointSliceEndpoint[] }>()
  for (const pod of pods) {
    const address = podIPs(pod).find((ip) => ipFamily(ip) === family)
    if (address === undefined) continue
    const ports: EndpointSlicePort[] = []
    for (const sp of svc.spec.ports ?? []) {
      const protocol = sp.protocol ?? 'TCP'
      const port = findPort(pod, sp.targetPort, sp.port, protocol)
      if (port !== undefined) ports.push({ name: sp.name ?? '', port, protocol })
    }
    const key = ports.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(',')
    const terminating = pod.metadata.deletionTimestamp !== undefined
    const serving = publishNotReady || isPodReady(pod)
    const endpoint: EndpointSliceEndpoint = {
      addresses: [address],
      conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
      ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      ...(pod.spec.nodeName && zoneOf.get(pod.spec.nodeName) ? { zone: zoneOf.get(pod.spec.nodeName)! } : {}),
      ...(pod.spec.hostname && pod.spec.subdomain === svc.metadata.name ? { hostname: pod.spec.hostname } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
    }
    const g = groups.get(key) ?? { ports, endpoints: [] }
    g.endpoints.push(endpoint)
    groups.set(key, g)
  }
  // A Service without endpoints still gets one empty placeholder slice, as upstream's controller keeps.
  if (groups.size === 0) groups.set('', { ports: [], endpoints: [] })
  const slices: EndpointSlice[] = []
  for (const [key, g] of [...groups.entries()].sort((a, b) => cmp(a[0], b[0]))) {
    for (let i = 0; i === 0 || i < g.endpoints.length; i += maxEndpointsPerSlice) {
      slices.push(makeSlice(svc, family, key, i / maxEndpointsPerSlice, g.ports, g.endpoints.slice(i, i + maxEndpointsPerSlice)))
    }
  }
  return slices
}

function makeSlice(svc: Service, family: IPFamily, portsKey: string, index: number, ports: EndpointSlicePort[], endpoints: EndpointSliceEndpoint[]): EndpointSlice {
  const name = svc.metadata.name ?? ''
  const ns = svc.metadata.namespace ?? 'default'
  const suffix = chainHash(`${ns}/${name}/${family}/${portsKey}/${index}`).slice(0, 5).toLowerCase()
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name}-${suffix}`,
      namespace: ns,
      labels: { ...(svc.metadata.labels ?? {}), [serviceNameLabel]: name, [managedByLabel]: endpointSliceControllerName },
      ...(svc.metadata.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    addressType: family,
    endpoints,
    ports,
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
