/**
 * Cluster DNS in `kpe up`: the `kube-dns` Service in kube-system (the service CIDR's tenth
 * address, ports dns/UDP and dns-tcp/TCP 53, as kubeadm installs it) with an EndpointSlice whose
 * endpoint kpe itself serves, so every node's rules carry it and queries through the dataplane
 * reach the resolver; plus the host's loopback DNS port.
 */
import type { EndpointSlice, Node, Pod, Service } from '../api/index.js'
import type { ClusterConfig, ControlPlane, ManifestDocument } from '../cluster/index.js'
import { storage } from '../controllers/index.js'
import { ClusterDns, defaultClusterDomain, type DnsServerAddress } from '../dns/index.js'
import type { PodNetworkTable } from '../kubelet/index.js'
import { bigIntToIP, ipFamily, type IPAddress } from '../net/index.js'
import { nodeIPs } from '../proxy/model/index.js'
import { realTimers } from '../runtime/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { storeObjectSource } from './store-source.js'

export const kubeDnsNamespace = 'kube-system'
export const kubeDnsName = 'kube-dns'
/** The field manager and EndpointSlice manager of what kpe writes for kube-dns. */
export const kubeDnsManager = 'kpe-dns'
/** The pod name the kube-dns endpoint is recorded under in the pod network table and logs. */
const dnsEndpointOwner = `${kubeDnsNamespace}/kpe-dns`
const dnsPort = 53

/** kubeadm's choice: the tenth address of the (primary) service CIDR, 10.96.0.10 by default. */
export function kubeDnsClusterIP(config: ClusterConfig): IPAddress | undefined {
  const cidr = config.serviceCIDRs[0]
  return cidr ? bigIntToIP(cidr.network + 10n, cidr.family) : undefined
}

export function kubeDnsService(clusterIP: string): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: kubeDnsName, namespace: kubeDnsNamespace, labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS', 'app.kubernetes.io/managed-by': kubeDnsManager } },
    spec: {
      type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP],
      ports: [{ name: 'dns', port: dnsPort, protocol: 'UDP', targetPort: dnsPort }, { name: 'dns-tcp', port: dnsPort, protocol: 'TCP', targetPort: dnsPort }],
    },
  }
}

/**
 * The endpoint is the first node's address, as a hostNetwork DNS pod on that node would have:
 * it lies outside every pod CIDR, so no pod can be given it.
 */
export function kubeDnsEndpointSlice(address: IPAddress, nodeName: string): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${kubeDnsName}-kpe`, namespace: kubeDnsNamespace, labels: { 'kubernetes.io/service-name': kubeDnsName, 'endpointslice.kubernetes.io/managed-by': kubeDnsManager } },
    addressType: ipFamily(address),
    endpoints: [{ addresses: [address], conditions: { ready: true, serving: true, terminating: false }, nodeName }],
    ports: [{ name: 'dns', port: dnsPort, protocol: 'UDP' }, { name: 'dns-tcp', port: dnsPort, protocol: 'TCP' }],
  }
}

export interface KubeDnsOptions {
  readonly controlPlane: ControlPlane
  readonly config: ClusterConfig
  readonly manifests: readonly ManifestDocument[]
  /** The host's DNS port on 127.0.0.1; 0 or undefined: none. */
  readonly hostPort?: number
  /** The port is the default, not asked for: when taken, the cluster starts without it (a warning). */
  readonly hostPortIsDefault?: boolean
  readonly log?: (line: string) => void
}

export interface KubeDns {
  readonly dns: ClusterDns
  /** The host's loopback DNS address, when served. */
  readonly hostAddress: DnsServerAddress | undefined
  /** The kube-dns endpoint kpe serves (address and node), when kpe installed kube-dns. */
  readonly endpoint: { readonly address: IPAddress; readonly node: string } | undefined
  /** Serves the endpoint: its address:53 in the pod network table leads to the resolver. */
  attach(network: PodNetworkTable): Promise<void>
  stop(): void
}

/** Installs kube-dns (unless the manifests bring their own) and starts the resolver. */
export async function startKubeDns(o: KubeDnsOptions): Promise<KubeDns> {
  const store = o.controlPlane.store
  const endpoint = await installKubeDns(o)
  const dns = new ClusterDns({
    services: storeObjectSource<Service>(store, storage.services),
    endpointSlices: storeObjectSource<EndpointSlice>(store, storage.endpointSlices),
    pods: storeObjectSource<Pod>(store, storage.pods),
    clusterDomain: o.config.clusterDomain ?? defaultClusterDomain,
    timers: realTimers,
    ...(o.log ? { log: o.log } : {}),
  })
  await dns.start()
  try {
    const hostAddress = o.hostPort ? await serveHostPort(dns, o) : undefined
    return {
      dns, hostAddress, endpoint,
      attach: async (network) => {
        if (!endpoint) return
        const inCluster = await dns.serve('127.0.0.1', 0)
        for (const proto of ['udp', 'tcp'] as const) {
          network.set(endpoint.address, dnsPort, proto, { local: { address: inCluster.host, port: inCluster.port }, pod: dnsEndpointOwner, node: endpoint.node })
        }
      },
      stop: () => dns.stop(),
    }
  } catch (err) {
    dns.stop()
    throw err
  }
}

async function serveHostPort(dns: ClusterDns, o: KubeDnsOptions): Promise<DnsServerAddress | undefined> {
  try {
    return await dns.serve('127.0.0.1', o.hostPort!)
  } catch (err) {
    if (!o.hostPortIsDefault || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    o.log?.(`kpe up: warning: 127.0.0.1:${o.hostPort} is in use; cluster DNS is not served to the host (choose one with --dns-port)`)
    return undefined
  }
}

/** Where kpe's own endpoints live: the first Node by name with an address (a hostNetwork pod's). */
export function hostNetworkNode(store: ObjectStore): { readonly name: string; readonly ip: IPAddress } | undefined {
  return (store.list(storage.nodes).items as unknown as Node[])
    .map((n) => ({ name: n.metadata.name ?? '', ip: nodeIPs(n)[0] }))
    .filter((n): n is { name: string; ip: IPAddress } => n.ip !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : 1))[0]
}

async function installKubeDns(o: KubeDnsOptions): Promise<KubeDns['endpoint']> {
  const own = o.manifests.some((d) => d.object.kind === 'Service' && d.object.metadata.namespace === kubeDnsNamespace && d.object.metadata.name === kubeDnsName)
  if (own) {
    o.log?.(`kpe up: ${kubeDnsNamespace}/${kubeDnsName} comes from the manifests; kpe serves cluster DNS on the host port only`)
    return undefined
  }
  const clusterIP = kubeDnsClusterIP(o.config)
  const node = hostNetworkNode(o.controlPlane.store)
  if (!clusterIP || !node) return undefined
  try {
    await o.controlPlane.client.apply(kubeDnsService(clusterIP), kubeDnsManager)
    await o.controlPlane.client.apply(kubeDnsEndpointSlice(node.ip, node.name), kubeDnsManager)
  } catch (err) {
    // An address already taken (a Service created at 10.96.0.10 in an earlier run) must not
    // stop the cluster: DNS still answers on the host port.
    o.log?.(`kpe up: warning: ${kubeDnsNamespace}/${kubeDnsName} not installed: ${err instanceof Error ? err.message : String(err)}`)
    return undefined
  }
  return { address: node.ip!, node: node.name }
}
