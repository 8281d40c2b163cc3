/**
 * Every node's rules kept current from watch events in one process (kpe up's many lightweight
 * nodes): one change tracker and one cluster model for all nodes, and on each sync a
 * ClusterIptablesRules (or, from ClusterRulesSync.nftables, a ClusterNftablesRules) built on the
 * previous one, so unchanged service ports keep their rules and each node reads its text with
 * forNode(config). No timers or I/O.
 */
import { ClusterIptablesRules } from '../iptables/index.js'
import { ClusterNftablesRules } from '../nftables/index.js'
import { IncrementalProxyState, noNodeName, ProxyChangeTracker, type ProxierConfig, type ProxyState, type ServiceObjects } from '../model/index.js'
import { buildFailure, type SkippedService } from './proxier-state.js'

/** Either mode's rules for every node of one cluster model. */
export interface ClusterRules {
  forNode(config: ProxierConfig): unknown
}

/** Builds the rules of a new model, keeping what it can of the previous model's. */
export type BuildClusterRules<C extends ClusterRules> = (state: ProxyState, previous: C | undefined) => C

const iptablesRules: BuildClusterRules<ClusterIptablesRules> = (state, previous) => new ClusterIptablesRules(state, previous)

export interface ClusterSync<C extends ClusterRules = ClusterIptablesRules> {
  /** Every node's rules: `rules.forNode(config)`. */
  readonly rules: C
  /** Services (`ns/name`) that changed since the previous sync. */
  readonly changed: ReadonlySet<string>
  /** Services left out because their objects cannot be modelled or built (after a failed update only). */
  readonly skipped: readonly SkippedService[]
}

export class ClusterRulesSync<C extends ClusterRules = ClusterIptablesRules> {
  readonly #tracker = new ProxyChangeTracker()
  /** Any node's config of the cluster's family: what a Service's own rules are checked with after a failure. */
  readonly #config: ProxierConfig
  readonly #build: BuildClusterRules<C>
  /** The cluster model belongs to no node: isLocal is derived per node by the cluster rules. */
  #model: IncrementalProxyState
  #rules: C | undefined

  /** nftables mode: each node's `nft -f` transaction of a full sync. */
  static nftables(config: ProxierConfig): ClusterRulesSync<ClusterNftablesRules> {
    return new ClusterRulesSync(config, (state, previous) => new ClusterNftablesRules(state, previous))
  }

  /** Without `build`, iptables mode. */
  constructor(config: ProxierConfig, build?: BuildClusterRules<C>) {
    this.#config = config
    // C defaults to ClusterIptablesRules, the one type the default builds.
    this.#build = build ?? (iptablesRules as unknown as BuildClusterRules<C>)
    this.#model = new IncrementalProxyState(config.ipFamily, noNodeName)
  }

  /** Feed it every Service and EndpointSlice event (list and watch) of the cluster. */
  get tracker(): ProxyChangeTracker {
    return this.#tracker
  }

  /**
   * Takes the tracked changes into the model and gives the rules every node reads from. As in
   * the per-node ProxierSync, a Service whose objects break the model or the build is left out
   * (and named) rather than ending the sync for every other Service.
   */
  nextSync(): ClusterSync<C> {
    const changes = this.#tracker.drain()
    const changed = new Set(changes.keys())
    try {
      this.#model.update(changes)
      // Building the reference node's class here makes a bad object fail now, not in every forNode.
      const rules = this.#next()
      rules.forNode(this.#config)
      return { rules, changed, skipped: [] }
    } catch {
      const usable = new Map<string, ServiceObjects>()
      const skipped: SkippedService[] = []
      for (const [name, objects] of this.#tracker.current()) {
        const error = buildFailure(objects, this.#config)
        if (error === undefined) usable.set(name, objects)
        else skipped.push({ name, error })
      }
      this.#model = new IncrementalProxyState(this.#config.ipFamily, noNodeName)
      this.#model.update(usable)
      this.#rules = undefined
      return { rules: this.#next(), changed, skipped }
    }
  }

  #next(): C {
    this.#rules = this.#build(this.#model.state, this.#rules)
    return this.#rules
  }
}
