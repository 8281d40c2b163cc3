/**
 * `kpe trace --live`: the same explanation as `kpe trace -f`, for a running `kpe up`: the Nodes,
 * Services, Pods and EndpointSlices come from its API server (so pod/NAME and svc/NAME resolve to
 * the addresses kubectl shows) and the rules are the node's current ones, from the agents endpoint.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ManifestSet } from '../api/index.js'
import { kubeconfigFileName } from '../cluster/index.js'
import { NotFoundError, UsageError } from '../errors.js'
import { bigIntToIP, ipFamily, parseCidr } from '../net/index.js'
import { clusterObjects } from '../proxy/model/index.js'
import { parseIptablesSave } from '../proxy/netfilter/index.js'
import { meaningFromComments, packetOf, podIndex, resolveDestination, resolveSource, traceRules, type TraceObjects, type TraceReport } from '../proxy/trace/index.js'
import { fetchFromAgents } from './agents-client.js'
import { readClusterInputs, restClientFor } from './attach-cluster.js'

/** The cluster's objects, read through the kubeconfig `kpe up` wrote into its data dir (attach mode's client). */
async function liveObjects(dataDir: string): Promise<ManifestSet> {
  const kubeconfig = join(dataDir, kubeconfigFileName)
  if (!existsSync(kubeconfig)) throw new NotFoundError(`no running kpe up found in ${dataDir}`, { hint: 'start one with kpe up, or pass its --data-dir' })
  return (await readClusterInputs(restClientFor({ kubeconfig }), { withPods: true })).manifests
}

export interface LiveTraceRequest {
  readonly dataDir: string | undefined
  readonly from: string
  readonly to: string
  readonly node: string | undefined
  readonly namespace: string
}

export async function traceLive(r: LiveTraceRequest): Promise<TraceReport> {
  const dataDir = resolve(r.dataDir ?? '.kpe')
  const manifests = await liveObjects(dataDir)
  const objects = clusterObjects(manifests)
  const traceObjects: TraceObjects = { services: objects.services, pods: manifests.pods.map((l) => l.object), nodes: objects.nodes }
  const dst = resolveDestination(r.to, traceObjects, 'IPv4', r.namespace)
  const src = resolveSource(r.from, traceObjects, ipFamily(dst.ip), r.node, r.namespace)
  const nodeName = r.node ?? src.node
  if (nodeName === undefined) throw new UsageError(`${src.describe} is not on any node: say which node it enters through`, { hint: 'add --node NODE' })
  const node = objects.nodes.find((n) => n.metadata.name === nodeName)
  if (!node) throw new UsageError(`node "${nodeName}" is not in the cluster`)
  const table = parseIptablesSave(await fetchFromAgents(dataDir, `/rules/${encodeURIComponent(nodeName)}`), { source: `kpe up rules of ${nodeName}` })
  const podCIDR = (node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])).map((c) => parseCidr(c)).find((c) => c?.family === ipFamily(dst.ip))
  // A bridge CNI gives the node the first address of its pod CIDR: MASQUERADE toward a local pod picks it.
  const gateway = podCIDR ? bigIntToIP(podCIDR.network + 1n, podCIDR.family) : undefined
  const nodeIPs = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address)
  const localAddresses = new Set<string>([...nodeIPs, ...(gateway ? [gateway] : [])])
  const inPodCIDR = (address: string): boolean => {
    const probe = podCIDR ? parseCidr(`${address}/${podCIDR.prefix}`) : undefined
    return probe !== undefined && podCIDR !== undefined && probe.family === podCIDR.family && probe.network === podCIDR.network
  }
  return traceRules(table, packetOf(src, dst), {
    node: nodeName,
    ctx: { localAddresses },
    origin: src.origin === 'local' || localAddresses.has(src.ip) ? 'local' : 'external',
    from: src.describe,
    to: dst.describe,
    podOf: podIndex(objects.endpointSlices),
    // the live rules carry kube-proxy's comments only, as a real node's dump does
    explain: meaningFromComments,
    masqueradeAddress: (address) => (inPodCIDR(address) ? gateway : nodeIPs[0]),
  })
}
