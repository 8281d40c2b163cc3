/**
 * The Ingress controller's own LoadBalancer Service, the way ingress-nginx is exposed in a real
 * cluster: `kube-system/kpe-ingress` (ports http 80, https 443) whose one endpoint kpe serves on
 * the first node's address, so the IP the load-balancer pool gives it leads through every node's
 * rules to the controller's listeners, from the SOCKS5/HTTP entry points and from pods alike.
 */
import type { Service } from '../api/index.js'
import type { ControlPlane } from '../cluster/index.js'
import { storage } from '../controllers/index.js'
import type { PodNetworkTable } from '../kubelet/index.js'
import { ipFamily, type IPAddress } from '../net/index.js'
import type { KubeObject } from '../store/index.js'
import { hostNetworkNode } from './kube-dns.js'

export const ingressServiceNamespace = 'kube-system'
export const ingressServiceName = 'kpe-ingress'
/** The field manager and EndpointSlice manager of what kpe writes for the Service. */
const manager = 'kpe-ingress'
/** The name the endpoint is recorded under in the pod network table and `kpe connections`. */
const endpointOwner = `${ingressServiceNamespace}/kpe-ingress-controller`

/** The controller's listeners on loopback: Service port name -> local port. */
export interface IngressListeners {
  readonly http?: number | undefined
  readonly https?: number | undefined
}

const servicePorts = (l: IngressListeners) => [
  ...(l.http ? [{ name: 'http', port: 80 }] : []),
  ...(l.https ? [{ name: 'https', port: 443 }] : []),
]

export function ingressService(l: IngressListeners): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: ingressServiceName, namespace: ingressServiceNamespace, labels: { 'app.kubernetes.io/name': 'kpe-ingress', 'app.kubernetes.io/managed-by': manager } },
    spec: { type: 'LoadBalancer', ports: servicePorts(l).map((p) => ({ ...p, protocol: 'TCP', targetPort: p.port })) },
  }
}

export function ingressEndpointSlice(address: IPAddress, nodeName: string, l: IngressListeners): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${ingressServiceName}-kpe`, namespace: ingressServiceNamespace, labels: { 'kubernetes.io/service-name': ingressServiceName, 'endpointslice.kubernetes.io/managed-by': manager } },
    addressType: ipFamily(address),
    endpoints: [{ addresses: [address], conditions: { ready: true, serving: true, terminating: false }, nodeName }],
    ports: servicePorts(l).map((p) => ({ ...p, protocol: 'TCP' })),
  }
}

/** The LoadBalancer IPs the pool gave the Service (status.loadBalancer.ingress). */
export function ingressServiceIPs(controlPlane: ControlPlane): string[] {
  const svc = controlPlane.store.get({ resource: storage.services, namespace: ingressServiceNamespace, name: ingressServiceName }) as unknown as Service | undefined
  return (svc?.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []))
}

export interface ExposeIngressOptions {
  readonly controlPlane: ControlPlane
  readonly network: PodNetworkTable
  readonly listeners: IngressListeners
  readonly log?: ((line: string) => void) | undefined
}

/**
 * Installs the Service and its EndpointSlice and serves the endpoint; returns the LoadBalancer
 * IPs. A cluster whose manifests or earlier run hold the name keeps going without it (a warning).
 */
export async function exposeIngressController(o: ExposeIngressOptions): Promise<string[]> {
  const node = hostNetworkNode(o.controlPlane.store)
  if (!node || servicePorts(o.listeners).length === 0) return []
  try {
    await o.controlPlane.client.apply(ingressService(o.listeners), manager)
    await o.controlPlane.client.apply(ingressEndpointSlice(node.ip, node.name, o.listeners), manager)
  } catch (err) {
    o.log?.(`kpe up: warning: ${ingressServiceNamespace}/${ingressServiceName} not installed: ${err instanceof Error ? err.message : String(err)}`)
    return []
  }
  for (const [port, local] of [[80, o.listeners.http], [443, o.listeners.https]] as const) {
    if (local) o.network.set(node.ip, port, 'tcp', { local: { address: '127.0.0.1', port: local }, pod: endpointOwner, node: node.name })
  }
  return ingressServiceIPs(o.controlPlane)
}
