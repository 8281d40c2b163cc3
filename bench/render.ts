/**
 * Rule-engine benchmarks: full and partial renders of synthetic clusters, scaling, heap, and the
 * kernel's iptables-restore of the same text in a fresh namespace (root only) as the baseline.
 */
import type { EndpointSlice } from '../src/api/index.js'
import { resolveProxierConfig, type ProxierConfig } from '../src/proxy/model/index.js'
import { NftProxierSync, ProxierSync } from '../src/proxy/proxier/index.js'
import { missingLabPrerequisites, runInNetns, withNetns } from '../src/lab/index.js'
import { figure, median, type Figure } from './figures.js'
import { allNodesBenchmarks } from './render-all-nodes.js'
import { syntheticCluster, type SyntheticCluster } from './synthetic-cluster.js'

const config: ProxierConfig = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.244.0.0/16' },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName: 'node-a',
})

/** A proxier's state after its watches listed every object of the cluster. */
function listed(c: SyntheticCluster): ProxierSync {
  const proxier = new ProxierSync(config)
  for (const s of c.services) proxier.tracker.serviceChanged(undefined, s)
  for (const s of c.endpointSlices) proxier.tracker.sliceChanged(undefined, s)
  return proxier
}

/**
 * A proxier's first (full) sync, as the Proxier loop runs it: list events into the change
 * tracker, model, build, render. Nothing is kept from an earlier call.
 */
export function renderFull(c: SyntheticCluster): string {
  const text = listed(c).nextSync('full').text
  flatten(text)
  return text
}

/** The same first sync in nftables mode: list events, model, build, render the `nft -f` transaction. */
export function renderNftFull(c: SyntheticCluster): string {
  const proxier = new NftProxierSync(config)
  for (const s of c.services) proxier.tracker.serviceChanged(undefined, s)
  for (const s of c.endpointSlices) proxier.tracker.sliceChanged(undefined, s)
  const text = proxier.nextSync('full', 0).text
  flatten(text)
  return text
}

function timeMs(fn: () => unknown): number {
  const t = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t) / 1e6
}

/** Makes V8 materialize a rope as one flat string, as writing it to iptables-restore would. */
function flatten(text: string): void {
  if (text.length > 0 && text.charCodeAt(text.length >> 1) < 0) throw new Error('unreachable')
}

function gc(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

export async function renderBenchmarks(opts: { rounds: number; quick: boolean }): Promise<Figure[]> {
  const big = opts.quick ? 2000 : 10000
  const label = opts.quick ? `${big / 1000}k (quick)` : '10k'
  const c10k = syntheticCluster(big, 10)
  const c5k = syntheticCluster(opts.quick ? 500 : 5000, 10)
  const c50k = syntheticCluster(opts.quick ? 5000 : 50000, 10)
  renderFull(c5k) // warm up (JIT)
  renderNftFull(c5k)

  const full: number[] = []
  const nftFull: number[] = []
  const small: number[] = []
  const large: number[] = []
  // Round-robin across configurations so machine noise spreads evenly.
  for (let r = 0; r < opts.rounds; r++) {
    gc()
    full.push(timeMs(() => renderFull(c10k)))
    gc()
    nftFull.push(timeMs(() => renderNftFull(c10k)))
    gc()
    small.push(timeMs(() => renderFull(c5k)))
    if (r < Math.min(opts.rounds, 5)) {
      gc()
      large.push(timeMs(() => renderFull(c50k)))
    }
  }

  // Partial sync after one endpoint change, on the proxier's long-lived state: the watch event
  // into the tracker, then the sync (model update, build, render) and its chain bookkeeping.
  const proxier = listed(c10k)
  proxier.applied(proxier.nextSync('full').table)
  const first = c10k.endpointSlices[0]!
  const changed: EndpointSlice = { ...first, endpoints: [{ ...first.endpoints[0]!, addresses: ['10.250.0.1'] }, ...first.endpoints.slice(1)] }
  const partial: number[] = []
  let current = first
  for (let r = 0; r < Math.max(opts.rounds, 20); r++) {
    // Alternate between the two versions so every round is a real change.
    const next = current === first ? changed : first
    partial.push(timeMs(() => {
      proxier.tracker.sliceChanged(current, next)
      const sync = proxier.nextSync('partial')
      if (sync.changed.size !== 1) throw new Error(`bench: expected one changed Service, got ${sync.changed.size}`)
      proxier.applied(sync.table)
      flatten(sync.text)
    }))
    current = next
  }

  gc()
  const heapBefore = process.memoryUsage().heapUsed
  let peak = heapBefore
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().heapUsed) }, 5)
  const text = renderFull(c10k)
  peak = Math.max(peak, process.memoryUsage().heapUsed)
  clearInterval(timer)
  const heapMb = (peak - heapBefore) / 2 ** 20

  const fullMs = median(full)
  const restore = await restoreTime(text)
  return [
    figure(`render.full.${label}.ms`, fullMs, 'ms', null, { goal: 'reported', note: `${(text.length / 2 ** 20).toFixed(1)} MiB of restore text` }),
    figure(`render.nft.full.${label}.ms`, median(nftFull), 'ms', fullMs, { goal: 'reported', note: 'nftables mode: the first sync\'s nft -f transaction, beside render.full' }),
    restore.ms === null
      ? figure('render.vs.restore.10k', null, 'ratio', null, { goal: '<= 0.02', note: restore.note })
      : figure('render.vs.restore.10k', fullMs, 'ratio', restore.ms, { goal: '<= 0.02', note: `iptables-restore ${restore.ms.toFixed(0)} ms (${restore.note})` }),
    figure('render.partial.10k.ms', median(partial), 'ms', fullMs, { goal: '<= 5 ms' }),
    figure('render.scaling.50k_over_5k', median(large), 'ratio', median(small), { goal: '<= 11' }),
    figure('render.heap.10k.mb', heapMb, 'MB', null, { goal: '<= 300 MB', note: 'peak heap growth, sampled' }),
    ...allNodesBenchmarks(opts),
  ]
}

/** The kernel's time to load the same text in a fresh namespace (legacy backend), median of 3. */
async function restoreTime(text: string): Promise<{ ms: number | null; note: string }> {
  const missing = missingLabPrerequisites({ commands: ['iptables-legacy-restore'] })
  if (missing) return { ms: null, note: `skipped: ${missing}` }
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    await withNetns('kpe-bench', async (ns) => {
      const t = process.hrtime.bigint()
      await runInNetns(ns, ['iptables-legacy-restore', '--noflush', '--counters'], { input: text })
      times.push(Number(process.hrtime.bigint() - t) / 1e6)
    })
  }
  return { ms: median(times), note: 'iptables-legacy-restore, fresh namespace' }
}
