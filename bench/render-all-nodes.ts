/**
 * render.allnodes.1k_over_1: every node's iptables rules of a 1,000-node cluster with sharing
 * (ClusterIptablesRules) divided by one node's first sync as its proxier makes it, in the same
 * run; the unshared ratio (each node's proxier alone, timed on a sample) is the baseline.
 */
import { ClusterIptablesRules, type SharedNodeRules } from '../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig, type ProxierConfig } from '../src/proxy/model/index.js'
import { ProxierSync } from '../src/proxy/proxier/index.js'
import { figure, median, type Figure } from './figures.js'
import { syntheticNodesCluster, type SyntheticNodesCluster } from './synthetic-nodes-cluster.js'

const kubeProxyConfiguration = { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.244.0.0/16' } as const

function nodeConfigs(c: SyntheticNodesCluster): ProxierConfig[] {
  return c.nodes.map((node) => resolveProxierConfig({ config: kubeProxyConfiguration, ipFamily: 'IPv4', node, nodeName: node.metadata.name! }))
}

/** One node's first sync as its Proxier runs it: list events into the tracker, model, build, render (flat text). */
function renderOneNode(c: SyntheticNodesCluster, config: ProxierConfig): string {
  const proxier = new ProxierSync(config)
  for (const s of c.services) proxier.tracker.serviceChanged(undefined, s)
  for (const s of c.endpointSlices) proxier.tracker.sliceChanged(undefined, s)
  const text = proxier.nextSync('full').text
  text.charCodeAt(text.length >> 1)
  return text
}

/** Every node's rules with sharing: the model once, then each node's text from its class. */
function renderAllNodes(c: SyntheticNodesCluster, configs: readonly ProxierConfig[]): SharedNodeRules[] {
  const cluster = new ClusterIptablesRules(buildProxyState(c.services, c.endpointSlices, 'IPv4', configs[0]!.nodeName))
  return configs.map((config) => cluster.forNode(config))
}

function timeMs(fn: () => unknown): number {
  const t = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t) / 1e6
}

function gc(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

export function allNodesBenchmarks(opts: { rounds: number; quick: boolean }): Figure[] {
  const nodeCount = opts.quick ? 200 : 1000
  const serviceCount = opts.quick ? 1000 : 5000
  const c = syntheticNodesCluster(nodeCount, serviceCount, 10)
  const configs = nodeConfigs(c)
  renderOneNode(c, configs[1]!) // warm up (JIT)
  renderAllNodes(c, configs.slice(0, 20))

  const one: number[] = []
  const all: number[] = []
  const rounds = Math.min(opts.rounds, 5)
  for (let r = 0; r < rounds; r++) {
    gc()
    one.push(timeMs(() => renderOneNode(c, configs[r % configs.length]!)))
    gc()
    all.push(timeMs(() => renderAllNodes(c, configs)))
  }
  // Unshared: each node's proxier alone, on a sample of nodes, scaled to all of them.
  const sample = configs.filter((_, i) => i % Math.ceil(nodeCount / 10) === 0)
  gc()
  const sampleMs = timeMs(() => { for (const config of sample) renderOneNode(c, config) })
  const unsharedMs = (sampleMs / sample.length) * nodeCount

  gc()
  const heapBefore = process.memoryUsage().heapUsed
  const kept = renderAllNodes(c, configs)
  gc()
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20
  const textMb = kept.reduce((n, r) => n + r.text.length, 0) / 2 ** 20
  gc()
  const oneBefore = process.memoryUsage().heapUsed
  const oneText = renderOneNode(c, configs[0]!)
  gc()
  const oneHeapMb = (process.memoryUsage().heapUsed - oneBefore) / 2 ** 20
  if (oneText !== kept[0]!.text) throw new Error('bench: shared and unshared text of node-0 differ')

  const oneMs = median(one)
  const allMs = median(all)
  // The quick run is smaller and says so in its names.
  const tag = opts.quick ? 'quick' : '1k'
  const shape = `${nodeCount} nodes, ${serviceCount} Services x 10 endpoints (1/20 eTP Local, 1/20 zone hints, 1/50 iTP Local)`
  return [
    figure(`render.allnodes.${tag}_over_1`, allMs, 'ratio', oneMs, {
      goal: '<= 5',
      note: `all ${nodeCount} nodes ${allMs.toFixed(0)} ms shared vs one node ${oneMs.toFixed(0)} ms; ${shape}`,
    }),
    figure(`render.allnodes.${tag}.unshared_over_1`, unsharedMs, 'ratio', oneMs, {
      goal: 'baseline',
      note: `each node's proxier alone: ${(sampleMs / sample.length).toFixed(0)} ms/node on ${sample.length} nodes, x${nodeCount}`,
    }),
    figure(`render.allnodes.${tag}.heap.mb`, heapMb, 'MB', oneHeapMb, {
      goal: 'reported',
      note: `retained by all ${nodeCount} nodes' results (${textMb.toFixed(0)} MiB of text as slices of shared strings); baseline: one node's text`,
    }),
  ]
}
