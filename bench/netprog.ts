/**
 * netprog.p99.ms: network programming latency at 1,000 nodes and 10,000 Services, as kpe up's
 * lightweight nodes would get it from one shared kube-proxy loop (sharerender's ClusterRulesSync):
 * from an EndpointSlice change handed to the change tracker to every node's iptables-restore
 * text holding the new endpoint. Not in it: the API write and watch delivery before
 * (api.watch.p99.ms) and a kernel apply after. Baseline: upstream's SLO, p99 under 30 s.
 */
import type { EndpointSlice } from '../src/api/index.js'
import { resolveProxierConfig, type ProxierConfig } from '../src/proxy/model/index.js'
import { ClusterRulesSync } from '../src/proxy/proxier/index.js'
import { figure, type Figure } from './figures.js'
import { syntheticNodesCluster } from './synthetic-nodes-cluster.js'

/** Upstream's network programming latency SLO (sig-scalability): p99 within 30 s. */
export const netprogSloMs = 30_000

const kubeProxyConfiguration = { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.244.0.0/16' } as const

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}

/** The slice with one more endpoint, on a node chosen by the round, at an address no pod has. */
function withNewEndpoint(slice: EndpointSlice, round: number, nodeCount: number): { slice: EndpointSlice; address: string } {
  const address = `10.250.${(round >> 8) & 255}.${round & 255}`
  return {
    address,
    slice: { ...slice, metadata: { ...slice.metadata, resourceVersion: String(round + 2) }, endpoints: [...slice.endpoints, { addresses: [address], conditions: { ready: true }, nodeName: `node-${(round * 37) % nodeCount}` }] },
  }
}

export function netprogBenchmarks(opts: { quick: boolean }): Figure[] {
  const [nodeCount, serviceCount, changes] = opts.quick ? [100, 1_000, 10] : [1_000, 10_000, 5]
  const c = syntheticNodesCluster(nodeCount, serviceCount, 5)
  const configs: ProxierConfig[] = c.nodes.map((node) => resolveProxierConfig({ config: kubeProxyConfiguration, ipFamily: 'IPv4', node, nodeName: node.metadata.name! }))
  const sync = new ClusterRulesSync(configs[0]!)
  for (const s of c.services) sync.tracker.serviceChanged(undefined, s)
  for (const s of c.endpointSlices) sync.tracker.sliceChanged(undefined, s)
  const tFirst = process.hrtime.bigint()
  const first = sync.nextSync()
  for (const config of configs) first.rules.forNode(config)
  const firstMs = Number(process.hrtime.bigint() - tFirst) / 1e6
  const latencies: number[] = []
  let missing = 0
  const current = new Map(c.endpointSlices.map((s) => [s.metadata.name!, s]))
  for (let round = 0; round < changes; round++) {
    const name = c.endpointSlices[(round * 7919) % c.endpointSlices.length]!.metadata.name!
    const before = current.get(name)!
    const { slice, address } = withNewEndpoint(before, round, nodeCount)
    current.set(name, slice)
    const t = process.hrtime.bigint()
    sync.tracker.sliceChanged(before, slice)
    const next = sync.nextSync()
    for (const config of configs) if (!next.rules.forNode(config).text.includes(`--to-destination ${address}:`)) missing++
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  const p99 = percentile(latencies, 99)
  return [figure('netprog.p99.ms', p99, 'ms', netprogSloMs, {
    goal: '< 30000 (upstream SLO)',
    note: `${nodeCount} nodes x ${serviceCount} Services, ${changes} EndpointSlice changes: tracker -> ClusterRulesSync -> every node's restore text holds the endpoint (no API/watch, no kernel apply); p50 ${percentile(latencies, 50).toFixed(0)} ms; first sync of all nodes ${firstMs.toFixed(0)} ms${missing ? `; ${missing} node texts MISSING the endpoint` : ''}`,
  })]
}
