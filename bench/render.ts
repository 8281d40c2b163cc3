/**
 * Rule-engine benchmarks: full and partial renders of synthetic clusters, scaling, heap, and the
 * kernel's iptables-restore of the same text in a fresh namespace (root only) as the baseline.
 */
import { chainName } from '../src/net/index.js'
import { buildIptablesRules, isServiceChain } from '../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig, type ProxierConfig } from '../src/proxy/model/index.js'
import { renderIptablesRestore } from '../src/proxy/netfilter/index.js'
import { missingLabPrerequisites, runInNetns, withNetns } from '../src/lab/index.js'
import { figure, median, type Figure } from './figures.js'
import { syntheticCluster, type SyntheticCluster } from './synthetic-cluster.js'

const config: ProxierConfig = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.244.0.0/16' },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName: 'node-a',
})

/** One full sync as kube-proxy does it: model from objects, build, render. */
export function renderFull(c: SyntheticCluster): string {
  const state = buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a')
  return renderIptablesRestore(buildIptablesRules({ state, config }))
}

function timeMs(fn: () => unknown): number {
  const t = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t) / 1e6
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
  renderFull(c5k) // warm up (JIT, hash cache)

  const full: number[] = []
  const small: number[] = []
  const large: number[] = []
  // Round-robin across configurations so machine noise spreads evenly.
  for (let r = 0; r < opts.rounds; r++) {
    gc()
    full.push(timeMs(() => renderFull(c10k)))
    gc()
    small.push(timeMs(() => renderFull(c5k)))
    if (r < Math.min(opts.rounds, 5)) {
      gc()
      large.push(timeMs(() => renderFull(c50k)))
    }
  }

  // Partial sync after one endpoint change: only that service's chains are written.
  const before = buildProxyState(c10k.services, c10k.endpointSlices, 'IPv4', 'node-a')
  const existing = buildIptablesRules({ state: before, config }).tables[1]!.chains.map((ch) => ch.name).filter(isServiceChain).map(chainName)
  const changedSlices = [...c10k.endpointSlices]
  const first = changedSlices[0]!
  changedSlices[0] = { ...first, endpoints: [{ ...first.endpoints[0]!, addresses: ['10.250.0.1'] }, ...first.endpoints.slice(1)] }
  const partial: number[] = []
  for (let r = 0; r < opts.rounds; r++) {
    partial.push(timeMs(() => {
      const state = buildProxyState(c10k.services, changedSlices, 'IPv4', 'node-a')
      renderIptablesRestore(buildIptablesRules({ state, config, sync: { mode: 'partial', changedServices: new Set(['bench/svc-0']) }, existingNatChains: existing }))
    }))
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
    restore.ms === null
      ? figure('render.vs.restore.10k', null, 'ratio', null, { goal: '<= 0.02', note: restore.note })
      : figure('render.vs.restore.10k', fullMs, 'ratio', restore.ms, { goal: '<= 0.02', note: `iptables-restore ${restore.ms.toFixed(0)} ms (${restore.note})` }),
    figure('render.partial.10k.ms', median(partial), 'ms', fullMs, { goal: '<= 5 ms' }),
    figure('render.scaling.50k_over_5k', median(large), 'ratio', median(small), { goal: '<= 11' }),
    figure('render.heap.10k.mb', heapMb, 'MB', null, { goal: '<= 300 MB', note: 'peak heap growth, sampled' }),
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
