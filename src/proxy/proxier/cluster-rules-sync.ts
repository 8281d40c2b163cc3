/**
 * Every node's iptables rules kept current from watch events in one process (kpe up's many
 * lightweight nodes): one change tracker and one cluster model for all nodes, and on each sync
 * a ClusterIptablesRules built on the previous one, so unchanged service ports keep their rules
 * and each node reads its text with forNode(config). No timers or I/O.
 */
import { ClusterIptablesRules } from '../iptables/index.js'
import { IncrementalProxyState, noNodeName, ProxyChangeTracker, type ProxierConfig, type ServiceObjects } from '../model/index.js'
import { buildFailure, type SkippedService } from './proxier-state.js'

export interface ClusterSync {
  /** Every node's rules: `rules.forNode(config)`. */
  readonly rules: ClusterIptablesRules
  /** Services (`ns/name`) that changed since the previous sync. */
  readonly changed: ReadonlySet<string>
  /** Services left out because their objects cannot be modelled or built (after a failed update only). */
  readonly skipped: readonly SkippedService[]
}

export class ClusterRulesSync {
  readonly #tracker = new ProxyChangeTracker()
  /** Any node's config of the cluster's family: what a Service's own rules are checked with after a failure. */
  readonly #config: ProxierConfig
  /** The cluster model belongs to no node: isLocal is derived per node by ClusterIptablesRules. */
  #model: IncrementalProxyState
  #rules: ClusterIptablesRules | undefined

  constructor(config: ProxierConfig) {
    this.#config = config
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
  nextSync(): ClusterSync {
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

  #next(): ClusterIptablesRules {
    this.#rules = new ClusterIptablesRules(this.#model.state, this.#rules)
    return this.#rules
  }
}
