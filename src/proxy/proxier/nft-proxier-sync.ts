/**
 * The nftables proxier's sync bookkeeping (upstream nftables Proxier.syncProxyRules' state):
 * the change tracker and incremental model shared with iptables mode, the table the node holds
 * after the last successful transaction, and the stale-chain history aged by the caller's clock.
 * No timers or I/O: the loop asks for the next transaction and reports whether it applied.
 */
import type { ChainName } from '../../net/index.js'
import { IncrementalProxyState, ProxyChangeTracker, type ProxierConfig, type ProxyState, type ServicePortName } from '../model/index.js'
import {
  buildNftablesRules,
  kubeProxyTable,
  renderNftSyncTransaction,
  stepStaleChains,
  withStaleChains,
  type NftRuleset,
  type StaleChains,
  type StaleChainsStep,
} from '../nftables/index.js'

export interface NftNextSync {
  /** The table after this sync (flushed stale chains included). */
  readonly ruleset: NftRuleset
  /** The `nft -f` transaction from the held table to `ruleset`. */
  readonly text: string
  readonly full: boolean
  /** Services (`ns/name`) that changed since the previous sync. */
  readonly changed: ReadonlySet<string>
  readonly state: ProxyState
  readonly stale: StaleChainsStep
}

export class NftProxierSync {
  readonly #tracker = new ProxyChangeTracker()
  readonly #config: ProxierConfig
  readonly #model: IncrementalProxyState
  /** What the node holds after the last applied transaction; empty before the first. */
  #onNode: NftRuleset
  #stale: StaleChains = new Map()

  constructor(config: ProxierConfig) {
    this.#config = config
    this.#model = new IncrementalProxyState(config.ipFamily, config.nodeName)
    this.#onNode = { family: config.ipFamily === 'IPv4' ? 'ip' : 'ip6', table: { name: kubeProxyTable }, chains: [], sets: [], maps: [] }
  }

  get tracker(): ProxyChangeTracker {
    return this.#tracker
  }

  /** The held table (what `kpe rules --live` would show). */
  get onNode(): NftRuleset {
    return this.#onNode
  }

  /** Takes the tracked changes into the model and renders the next transaction; `now` (ms) ages stale chains. */
  nextSync(mode: 'full' | 'partial', now: number): NftNextSync {
    const changes = this.#tracker.drain()
    this.#model.update(changes)
    const changed = new Set(changes.keys())
    const owners = new Map<ChainName, ServicePortName>()
    const built = buildNftablesRules({ state: this.#model.state, config: this.#config, chainOwners: owners })
    const stale = stepStaleChains({ held: this.#onNode.chains.map((c) => c.name), active: new Set(built.chains.map((c) => c.name)), stale: this.#stale, now })
    const ruleset = withStaleChains(built, [...stale.stale.keys()])
    // The first sync on a node writes everything, as upstream's first sync is a full one.
    const full = mode === 'full' || this.#onNode.chains.length === 0
    const rewrite = new Set([...owners].filter(([, sp]) => changed.has(`${sp.namespace}/${sp.name}`)).map(([c]) => c))
    const text = renderNftSyncTransaction({ before: this.#onNode, after: ruleset, full, rewrite, stale })
    return { ruleset, text, full, changed, state: this.#model.state, stale }
  }

  /** The transaction applied: the node now holds its table and the new stale history. */
  applied(next: NftNextSync): void {
    this.#onNode = next.ruleset
    this.#stale = next.stale.stale
  }

  /**
   * The transaction failed: nothing of it happened. Upstream clears its stale history (the
   * chains were not flushed) and recomputes it on the next sync, which must be a full one.
   */
  failed(): void {
    this.#stale = new Map()
  }

  /** Rules in the held table. */
  ruleCount(): number {
    return this.#onNode.chains.reduce((n, c) => n + c.rules.length, 0)
  }
}
