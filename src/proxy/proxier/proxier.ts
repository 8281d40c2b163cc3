/**
 * The per-node kube-proxy loop (upstream pkg/proxy/iptables/proxier.go, the shell around
 * syncProxyRules): list+watch Services and EndpointSlices, track net changes per namespace/name,
 * sync at most once per minSyncPeriod and at least once per syncPeriod, partial syncs with a
 * periodic full one, a full resync after a failed apply. The only stateful loop of proxy/.
 */
import type { EndpointSlice, Service } from '../../api/index.js'
import { ListWatcher, type ObjectSource } from '../../client/index.js'
import type { Timers, TimerHandle } from '../../runtime/index.js'
import { builtinJumpRules, kubeProxyCanaryChain } from '../iptables/index.js'
import type { ProxierConfig, ProxyChangeTracker, ProxyState } from '../model/index.js'
import type { NftRuleExecutor, RuleExecutor } from '../netfilter/index.js'
import { ProxierSync, type NextSync } from './proxier-state.js'
import { Histogram, histogramLines, histogramOf, networkProgrammingBucketsSeconds, type HistogramSnapshot } from './histogram.js'
import { NftProxierSync } from './nft-proxier-sync.js'

export { ProxierSync } from './proxier-state.js'

/**
 * Upstream iptablesJumpChains: the KUBE-* chains the built-in chains jump to, and the jumps,
 * each inserted at the top unless present. They live outside the restore text (which never
 * touches built-in chains), so a full sync re-ensures them in case someone flushed them.
 */
export async function ensureJumpChains(executor: RuleExecutor): Promise<void> {
  for (const j of builtinJumpRules()) {
    await executor.ensureChain(j.table, j.to)
    await executor.ensureRule('prepend', j.table, j.from, j.rule)
  }
}

/** The canary chains upstream's monitor creates at start, in each table it watches. */
export async function ensureCanaryChains(executor: RuleExecutor): Promise<void> {
  for (const table of ['mangle', 'nat', 'filter'] as const) await executor.ensureChain(table, kubeProxyCanaryChain)
}

export interface ProxyObjectSource {
  readonly services: ObjectSource<Service>
  readonly endpointSlices: ObjectSource<EndpointSlice>
}

export interface ProxierOptions {
  readonly config: ProxierConfig
  readonly source: ProxyObjectSource
  readonly executor: RuleExecutor
  /** nftables mode: syncs are `nft -f` transactions through this executor; `executor` is not used. */
  readonly nftables?: NftRuleExecutor
  readonly timers: Timers
  /** Milliseconds; for durations and the last-sync timestamp. */
  readonly clock: { now(): number }
  /** Upstream iptables.minSyncPeriod (default 1s). */
  readonly minSyncPeriodMs?: number
  /** Upstream iptables.syncPeriod (default 30s): the longest time between syncs. */
  readonly syncPeriodMs?: number
  /** Upstream FullSyncPeriod (1h): partial syncs in between. */
  readonly fullSyncPeriodMs?: number
  readonly log?: (line: string) => void
  /** After each successful apply, with the model it was built from (the service health server follows it). */
  readonly onSynced?: (state: ProxyState) => void
}

// ---- the loop ----

export interface SyncStats {
  readonly syncs: number
  readonly fullSyncs: number
  readonly failures: number
  readonly lastSyncMs: number | undefined
  readonly lastSyncMode: 'full' | 'partial' | undefined
  readonly lastSyncAt: number | undefined
  readonly durationsMs: readonly number[]
  /** Rules per table after the last successful apply (noflush: untouched chains count too). */
  readonly rules: Readonly<Record<string, number>>
  readonly lastChanged: readonly string[]
  /** kubeproxy_network_programming_duration_seconds: trigger time to applied, per changed EndpointSlice. */
  readonly networkProgramming: HistogramSnapshot
}

const durationBucketsSeconds = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384]

export class Proxier {
  readonly #o: ProxierOptions
  /** Change tracker, incremental model and builder, and the chains the executor holds. */
  readonly #state: ProxierSync
  /** nftables mode's bookkeeping, when the node runs that mode. */
  readonly #nft: NftProxierSync | undefined
  readonly #tracker: ProxyChangeTracker
  readonly #watchers: ListWatcher<Service | EndpointSlice>[] = []
  #timer: TimerHandle | undefined
  #periodic: TimerHandle | undefined
  #running: Promise<void> | undefined
  #rerun = false
  #needFullSync = true
  /** The last apply failed: the next sync leaves out Services whose own rules do not load. */
  #isolateNext = false
  #lastFullSync = -Infinity
  #lastSyncStart = -Infinity
  #ready = false
  #stopped = false
  #stats = { syncs: 0, fullSyncs: 0, failures: 0, lastSyncMs: undefined as number | undefined, lastSyncMode: undefined as 'full' | 'partial' | undefined, lastSyncAt: undefined as number | undefined, durationsMs: [] as number[], lastChanged: [] as string[] }
  readonly #syncedWaiters: (() => void)[] = []
  readonly #networkProgramming = new Histogram(networkProgrammingBucketsSeconds)
  /** Upstream's trackerStartTime: slices last written before the loop started say nothing about its latency. */
  readonly #startedAt: number

  constructor(opts: ProxierOptions) {
    this.#o = opts
    this.#startedAt = opts.clock.now()
    this.#state = new ProxierSync(opts.config)
    this.#nft = opts.nftables ? new NftProxierSync(opts.config) : undefined
    this.#tracker = this.#nft?.tracker ?? this.#state.tracker
  }

  get nodeName(): string {
    return this.#o.config.nodeName
  }

  /** Lists both kinds, runs the first (full) sync, then follows the watches. */
  async start(): Promise<void> {
    const error = (err: unknown): void => this.#log(`watch: ${err instanceof Error ? err.message : String(err)}`)
    const services = new ListWatcher<Service>(this.#o.source.services, { change: (p, c) => this.#onChange(() => this.#tracker.serviceChanged(p, c)), error }, { timers: this.#o.timers, kind: 'Service' })
    const slices = new ListWatcher<EndpointSlice>(this.#o.source.endpointSlices, { change: (p, c) => this.#onChange(() => this.#tracker.sliceChanged(p, c)), error }, { timers: this.#o.timers, kind: 'EndpointSlice' })
    this.#watchers.push(services as ListWatcher<Service | EndpointSlice>, slices as ListWatcher<Service | EndpointSlice>)
    await Promise.all([services.start(), slices.start()])
    this.#ready = true
    // nftables mode has no canary chains (upstream's nftables proxier watches no iptables tables).
    if (!this.#nft) try {
      await ensureCanaryChains(this.#o.executor)
    } catch (err) {
      // Upstream logs a monitor failure and syncs anyway; the canary only detects flushes.
      this.#log(`creating the canary chains failed: ${err instanceof Error ? err.message : String(err)}`)
    }
    await this.syncNow()
  }

  stop(): void {
    this.#stopped = true
    for (const w of this.#watchers) w.stop()
    if (this.#timer) this.#o.timers.clearTimeout(this.#timer)
    if (this.#periodic) this.#o.timers.clearTimeout(this.#periodic)
  }

  /** Runs a sync now (or right after the one in progress) and resolves when it is done. */
  async syncNow(): Promise<void> {
    if (this.#timer) {
      this.#o.timers.clearTimeout(this.#timer)
      this.#timer = undefined
    }
    while (this.#running) await this.#running
    this.#running = this.#sync().finally(() => {
      this.#running = undefined
    })
    await this.#running
    if (this.#rerun || this.#tracker.hasPendingChanges()) {
      this.#rerun = false
      this.#schedule()
    }
    for (const w of this.#syncedWaiters.splice(0)) w()
  }

  /** No sync running or scheduled and no change waiting: the rules applied are the latest. */
  get idle(): boolean {
    return !this.#running && !this.#timer && !this.#rerun && !this.#tracker.hasPendingChanges()
  }

  /** Resolves once no change is waiting to be synced. */
  async settled(): Promise<void> {
    while (this.#running || this.#timer || this.#tracker.hasPendingChanges()) {
      if (!this.#running && !this.#timer) {
        this.#schedule()
        if (!this.#timer && !this.#running) break
      }
      await new Promise<void>((resolve) => this.#syncedWaiters.push(resolve))
    }
  }

  stats(): SyncStats {
    return {
      ...this.#stats, durationsMs: [...this.#stats.durationsMs], lastChanged: [...this.#stats.lastChanged], rules: this.#nft ? { nftables: this.#nft.ruleCount() } : this.#state.ruleCounts(),
      networkProgramming: this.#networkProgramming.snapshot(),
    }
  }

  /** Upstream's kubeproxy_* sync metrics in Prometheus text format. */
  renderMetrics(): string {
    return renderProxierMetrics([{ node: this.#o.config.nodeName, stats: this.stats() }])
  }

  #log(line: string): void {
    this.#o.log?.(`proxier ${this.#o.config.nodeName}: ${line}`)
  }

  #onChange(record: () => void): void {
    record()
    if (this.#ready) this.#schedule()
  }

  /** BoundedFrequencyRunner: at most once per minSyncPeriod; a request during a sync reruns after it. */
  #schedule(): void {
    if (this.#stopped) return
    if (this.#running) {
      this.#rerun = true
      return
    }
    if (this.#timer) return
    const min = this.#o.minSyncPeriodMs ?? 1000
    const wait = Math.max(0, this.#lastSyncStart + min - this.#o.clock.now())
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = undefined
      // #sync catches what a sync can throw; this is the timer's own boundary, never a crash.
      this.syncNow().catch((err: unknown) => this.#log(`sync failed: ${err instanceof Error ? err.message : String(err)}`))
    }, wait)
  }

  async #sync(): Promise<void> {
    if (this.#stopped) return
    const start = this.#o.clock.now()
    this.#lastSyncStart = start
    const full = this.#needFullSync || start - this.#lastFullSync >= (this.#o.fullSyncPeriodMs ?? 3_600_000)
    // Taken with the changes the sync drains next; lost if it fails, as upstream's are.
    const triggerTimes = this.#tracker.takeTriggerTimes()
    if (this.#nft) return this.#syncNftables(this.#nft, start, full, triggerTimes)
    const isolate = this.#isolateNext
    let next: NextSync
    try {
      next = this.#state.nextSync(isolate ? 'isolate' : full ? 'full' : 'partial')
      for (const s of next.skipped) this.#log(`Service ${s.name} left out of the rules (its objects cannot be modelled): ${s.error}`)
      // Upstream runs the ensure commands on full syncs only; a failure there fails the sync.
      if (full || isolate) await ensureJumpChains(this.#o.executor)
      await this.#o.executor.apply(next.text, { flush: 'no-flush', counters: 'restore' })
    } catch (err) {
      // Upstream: "Failed to execute iptables-restore"; the next sync is a full one, after syncPeriod.
      this.#stats.failures++
      this.#needFullSync = true
      this.#log(`applying rules failed: ${err instanceof Error ? err.message : String(err)}`)
      // One Service's rules the tables refuse must not keep the others out for a syncPeriod: the
      // first retry comes at once and leaves out each Service whose own rules do not load.
      this.#isolateNext = true
      this.#afterSync(isolate ? this.#o.syncPeriodMs ?? 30_000 : 0)
      return
    }
    this.#isolateNext = false
    this.#state.applied(next.table)
    this.#synced(start, full, next.changed, next.state, triggerTimes)
  }

  /** One nftables sync: the transaction from the held table, applied whole or not at all. */
  async #syncNftables(nft: NftProxierSync, start: number, full: boolean, triggerTimes: readonly number[]): Promise<void> {
    const executor = this.#o.nftables!
    let next
    try {
      next = nft.nextSync(full ? 'full' : 'partial', start)
      await executor.apply(next.text)
    } catch (err) {
      // Upstream: "nftables sync failed"; the stale history is dropped and the next sync is full.
      nft.failed()
      this.#stats.failures++
      this.#needFullSync = true
      this.#log(`applying nftables rules failed: ${err instanceof Error ? err.message : String(err)}`)
      this.#afterSync(this.#o.syncPeriodMs ?? 30_000)
      return
    }
    nft.applied(next)
    this.#synced(start, next.full, next.changed, next.state, triggerTimes)
  }

  /** Bookkeeping after a successful apply, either mode. */
  #synced(start: number, full: boolean, changed: ReadonlySet<string>, state: ProxyState, triggerTimes: readonly number[]): void {
    this.#needFullSync = false
    observeNetworkProgramming(this.#networkProgramming, triggerTimes, this.#startedAt, this.#o.clock.now())
    if (full) {
      this.#lastFullSync = start
      this.#stats.fullSyncs++
    }
    const ms = this.#o.clock.now() - start
    this.#stats.syncs++
    this.#stats.lastSyncMs = ms
    this.#stats.lastSyncMode = full ? 'full' : 'partial'
    this.#stats.lastSyncAt = this.#o.clock.now()
    this.#stats.lastChanged = [...changed].sort()
    this.#stats.durationsMs.push(ms)
    if (this.#stats.durationsMs.length > 1000) this.#stats.durationsMs.shift()
    this.#afterSync(this.#o.syncPeriodMs ?? 30_000)
    // A sync that was applying when stop() ran must not reopen what stop() closed.
    if (this.#stopped) return
    try {
      this.#o.onSynced?.(state)
    } catch (err) {
      // A follower (the health server) failing must not fail the sync that already applied.
      this.#log(`after sync: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  #afterSync(periodMs: number): void {
    if (this.#periodic) this.#o.timers.clearTimeout(this.#periodic)
    if (!this.#stopped) {
      this.#periodic = this.#o.timers.setTimeout(() => {
        this.#periodic = undefined
        this.#schedule()
      }, periodMs)
    }
  }
}

/**
 * Upstream's network programming SLI: for each slice write the sync took in, the time from its
 * trigger (endpoints.kubernetes.io/last-change-trigger-time) to now, when the rules it needs
 * apply; `nodes` such observations when one shared sync programmed that many nodes. Writes
 * triggered before `startedAt` are left out (upstream: after trackerStartTime only).
 */
export function observeNetworkProgramming(h: Histogram, triggerTimes: readonly number[], startedAt: number, now: number, nodes = 1): void {
  for (const t of triggerTimes) if (t > startedAt) h.observe(Math.max(0, now - t) / 1000, nodes)
}

/** Prometheus text for several nodes' loops: each metric family once, with a sample per node. */
export function renderProxierMetrics(nodes: readonly { readonly node: string; readonly stats: SyncStats }[]): string {
  const lines: string[] = []
  const family = (name: string, help: string, type: string, samples: (label: string, s: SyncStats) => string[]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const { node, stats } of nodes) lines.push(...samples(`node="${node}"`, stats))
  }
  family('kubeproxy_sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds', 'histogram', (label, s) =>
    histogramLines('kubeproxy_sync_proxy_rules_duration_seconds', label, histogramOf(durationBucketsSeconds, s.durationsMs.map((ms) => ms / 1000))))
  family('kubeproxy_network_programming_duration_seconds', 'In Cluster Network Programming Latency in seconds', 'histogram', (label, s) =>
    histogramLines('kubeproxy_network_programming_duration_seconds', label, s.networkProgramming))
  family('kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'The last time proxy rules were successfully synced', 'gauge', (label, s) => [
    `kubeproxy_sync_proxy_rules_last_timestamp_seconds{${label}} ${s.lastSyncAt === undefined ? 0 : s.lastSyncAt / 1000}`,
  ])
  family('kubeproxy_sync_full_proxy_rules_total', 'Full syncs completed', 'counter', (label, s) => [`kubeproxy_sync_full_proxy_rules_total{${label}} ${s.fullSyncs}`])
  family('kubeproxy_sync_partial_proxy_rules_total', 'Partial syncs completed', 'counter', (label, s) => [`kubeproxy_sync_partial_proxy_rules_total{${label}} ${s.syncs - s.fullSyncs}`])
  family('kubeproxy_sync_proxy_rules_iptables_restore_failures_total', 'Cumulative proxy iptables restore failures', 'counter', (label, s) => [
    `kubeproxy_sync_proxy_rules_iptables_restore_failures_total{${label}} ${s.failures}`,
  ])
  family('kubeproxy_sync_proxy_rules_iptables_total', 'Number of iptables rules written by kube-proxy', 'gauge', (label, s) =>
    Object.keys(s.rules).sort().map((t) => `kubeproxy_sync_proxy_rules_iptables_total{${label},table="${t}"} ${s.rules[t]}`))
  return `${lines.join('\n')}\n`
}
