/**
 * kube-proxy for kpe up's lightweight nodes: one loop for all of them, not one per node. It
 * follows Services and EndpointSlices into sharerender's ClusterRulesSync (one change tracker,
 * one cluster model, rule work shared between nodes) at most once per minSyncPeriod, and gives
 * any lightweight node's current iptables rules on request. It applies them nowhere: no dataplane.
 */
import type { EndpointSlice, KubeProxyConfiguration, Node, Service } from '../api/index.js'
import { ListWatcher, type ObjectSource } from '../client/index.js'
import { resolveProxierConfig, type ProxierConfig } from '../proxy/model/index.js'
import { InterpreterExecutor, type RuleTable } from '../proxy/netfilter/index.js'
import {
  ClusterRulesSync, ensureCanaryChains, ensureJumpChains, Histogram, networkProgrammingBucketsSeconds, observeNetworkProgramming, type ClusterSync, type SyncStats,
} from '../proxy/proxier/index.js'
import type { Clock, TimerHandle, Timers } from '../runtime/index.js'

export interface LightweightRulesOptions {
  readonly nodes: readonly Node[]
  readonly kubeProxyConfiguration: KubeProxyConfiguration
  readonly services: ObjectSource<Service>
  readonly endpointSlices: ObjectSource<EndpointSlice>
  readonly timers: Timers
  readonly clock: Clock
  /** Upstream's minSyncPeriod (default 1 s): changes within it share one sync. */
  readonly minSyncPeriodMs?: number
  readonly log?: (line: string) => void
}

export class LightweightRulesLoop {
  readonly #o: LightweightRulesOptions
  readonly #configs = new Map<string, ProxierConfig>()
  readonly #sync: ClusterRulesSync | undefined
  readonly #watchers: ListWatcher<Service | EndpointSlice>[] = []
  #current: ClusterSync | undefined
  #timer: TimerHandle | undefined
  #lastSyncAt = -Infinity
  #syncs = 0
  #failures = 0
  #lastSyncMs: number | undefined
  #lastChanged: readonly string[] = []
  readonly #durationsMs: number[] = []
  /** One observation per lightweight node per slice write: a sync makes every node's rules hold it at once. */
  readonly #networkProgramming = new Histogram(networkProgrammingBucketsSeconds)
  readonly #startedAt: number
  #started = false
  #stopped = false

  constructor(opts: LightweightRulesOptions) {
    this.#o = opts
    this.#startedAt = opts.clock.now()
    for (const node of opts.nodes) {
      const name = node.metadata.name ?? ''
      try {
        this.#configs.set(name, resolveProxierConfig({ config: opts.kubeProxyConfiguration, ipFamily: 'IPv4', node, nodeName: name }))
      } catch (err) {
        opts.log?.(`lightweight rules: Node ${name} left out, its fields cannot be read: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
    const first = this.#configs.values().next().value
    this.#sync = first && new ClusterRulesSync(first)
  }

  get syncs(): number {
    return this.#syncs
  }

  /** The loop's kube-proxy sync metrics, as a real node's Proxier gives them; no rules are applied, so no rule counts. */
  stats(): SyncStats {
    return {
      syncs: this.#syncs, fullSyncs: Math.min(1, this.#syncs), failures: this.#failures, lastSyncMs: this.#lastSyncMs,
      lastSyncMode: this.#syncs === 0 ? undefined : this.#syncs === 1 ? 'full' : 'partial', lastSyncAt: this.#syncs === 0 ? undefined : this.#lastSyncAt,
      durationsMs: [...this.#durationsMs], rules: {}, lastChanged: [...this.#lastChanged], networkProgramming: this.#networkProgramming.snapshot(),
    }
  }

  /** Lists both kinds, syncs once, then follows the watches. */
  async start(): Promise<void> {
    const sync = this.#sync
    if (!sync) return
    const error = (err: unknown): void => this.#o.log?.(`lightweight rules: watch: ${err instanceof Error ? err.message : String(err)}`)
    const services = new ListWatcher<Service>(this.#o.services, { change: (p, c) => { sync.tracker.serviceChanged(p, c); this.#schedule() }, error }, { timers: this.#o.timers, kind: 'Service' })
    const slices = new ListWatcher<EndpointSlice>(this.#o.endpointSlices, { change: (p, c) => { sync.tracker.sliceChanged(p, c); this.#schedule() }, error }, { timers: this.#o.timers, kind: 'EndpointSlice' })
    this.#watchers.push(services as ListWatcher<Service | EndpointSlice>, slices as ListWatcher<Service | EndpointSlice>)
    await Promise.all([services.start(), slices.start()])
    this.#started = true
    this.#syncNow()
  }

  stop(): void {
    this.#stopped = true
    for (const w of this.#watchers) w.stop()
    if (this.#timer) this.#o.timers.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /**
   * What the node would hold after the last sync, as a real node's loop leaves it on a fresh host:
   * the canary chains, the jump rules, then the restore input (the same steps, into a scratch
   * executor); undefined for a node this loop does not serve.
   */
  async table(nodeName: string): Promise<RuleTable | undefined> {
    const text = this.restoreText(nodeName)
    if (text === undefined) return undefined
    const executor = new InterpreterExecutor({ family: 'IPv4', source: `${nodeName} restore input` })
    await ensureCanaryChains(executor)
    await ensureJumpChains(executor)
    await executor.apply(text, { flush: 'no-flush', counters: 'restore' })
    return executor.table()
  }

  /** The node's iptables-restore input as of the last sync. */
  restoreText(nodeName: string): string | undefined {
    const config = this.#configs.get(nodeName)
    return config && this.#current?.rules.forNode(config).text
  }

  #schedule(): void {
    if (this.#stopped || this.#timer || !this.#started) return
    const wait = Math.max(0, this.#lastSyncAt + (this.#o.minSyncPeriodMs ?? 1000) - this.#o.clock.now())
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = undefined
      this.#syncNow()
    }, wait)
  }

  #syncNow(): void {
    if (this.#stopped || !this.#sync) return
    const start = (this.#lastSyncAt = this.#o.clock.now())
    // Taken with the changes nextSync drains (see Proxier).
    const triggerTimes = this.#sync.tracker.takeTriggerTimes()
    try {
      const next = this.#sync.nextSync()
      for (const s of next.skipped) this.#o.log?.(`lightweight rules: Service ${s.name} left out (its objects cannot be modelled): ${s.error}`)
      this.#current = next
      this.#syncs++
      const now = this.#o.clock.now()
      this.#lastSyncMs = now - start
      this.#lastChanged = [...next.changed].sort()
      this.#durationsMs.push(this.#lastSyncMs)
      if (this.#durationsMs.length > 1000) this.#durationsMs.shift()
      // From here every lightweight node's /rules/NODE holds the change (each node's text is cut from the shared rules on request).
      observeNetworkProgramming(this.#networkProgramming, triggerTimes, this.#startedAt, now, this.#configs.size)
    } catch (err) {
      // The previous rules keep answering; the next change tries again.
      this.#failures++
      this.#o.log?.(`lightweight rules: sync failed: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}
