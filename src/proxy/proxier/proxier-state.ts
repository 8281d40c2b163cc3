/**
 * What the proxier keeps between syncs, without timers or I/O: the change tracker
 * (model/change-tracker.ts: net changes per Service since the last sync), the incremental model, the incremental iptables builder,
 * and the chains the node holds after the last successful apply. A sync does work in
 * proportion to the change plus a join of kept lines. The Proxier loop owns one; the
 * benchmark times the same object (bench/render.ts).
 */
import { IncrementalIptablesBuilder } from '../iptables/index.js'
import { buildProxyState, IncrementalProxyState, ProxyChangeTracker, serviceHealthChecks, type ProxierConfig, type ProxyState, type ServiceObjects } from '../model/index.js'
import { NodeTables, parseIptablesSave, type RuleTable } from '../netfilter/index.js'

/**
 * Why one Service's objects cannot be modelled, built and read back as restore text on their
 * own (what iptables-restore or the interpreter would refuse), or undefined when they can.
 */
export function buildFailure(objects: ServiceObjects, config: ProxierConfig): string | undefined {
  try {
    const state = buildProxyState(objects.service ? [objects.service] : [], objects.slices, config.ipFamily, config.nodeName)
    const { text } = new IncrementalIptablesBuilder(config).build({ state, sync: { mode: 'full' }, existingNatChains: new Map<string, number>() })
    parseIptablesSave(text, { family: config.ipFamily })
    serviceHealthChecks(state)
    return undefined
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}

/** A Service left out of the rules because its objects cannot be modelled (`ns/name`, and why). */
export interface SkippedService {
  readonly name: string
  readonly error: string
}

export interface NextSync {
  readonly table: RuleTable
  /** The restore text for `iptables-restore --noflush --counters`. */
  readonly text: string
  /** Services (`ns/name`) that changed since the previous sync. */
  readonly changed: ReadonlySet<string>
  /** The model the rules were built from. */
  readonly state: ProxyState
  /** Services left out of the model by this sync (only after a build failed; see nextSync). */
  readonly skipped: readonly SkippedService[]
}

/**
 * The proxier's sync bookkeeping (was ProxierState, too close to the model's ProxyState): what to
 * build next, and what the node holds after each successful apply.
 */
export class ProxierSync {
  readonly #tracker = new ProxyChangeTracker()
  readonly #config: ProxierConfig
  #model: IncrementalProxyState
  #builder: IncrementalIptablesBuilder
  /** The tables as the node holds them after the last successful apply (--noflush merges). */
  readonly #onNode: NodeTables

  constructor(config: ProxierConfig) {
    this.#config = config
    this.#model = new IncrementalProxyState(config.ipFamily, config.nodeName)
    this.#builder = new IncrementalIptablesBuilder(config)
    this.#onNode = new NodeTables({ family: config.ipFamily, tables: [] })
  }

  get tracker(): ProxyChangeTracker {
    return this.#tracker
  }

  /**
   * Takes the tracked changes into the model and builds the next sync's rules. After a failed
   * apply, the next call must be a full sync: the changes are already in the model; 'isolate'
   * is a full sync that first leaves out every Service whose own rules do not build or load.
   */
  nextSync(mode: 'full' | 'partial' | 'isolate'): NextSync {
    const changes = this.#tracker.drain()
    if (mode === 'isolate') return this.#rebuildWithout()
    try {
      this.#model.update(changes)
      return this.#build(mode, new Set(changes.keys()), [])
    } catch {
      return this.#rebuildWithout()
    }
  }

  /**
   * A model or build failure, which validation at the API should make impossible but an older
   * store can still hold: one Service's bad objects must not keep every other Service out of
   * the rules. Starts a fresh model (the failed update may have half applied) from every
   * Service whose own rules build, leaves the others out, and syncs in full.
   */
  #rebuildWithout(): NextSync {
    const all = this.#tracker.current()
    const usable = new Map<string, ServiceObjects>()
    const skipped: SkippedService[] = []
    for (const [name, objects] of all) {
      const error = buildFailure(objects, this.#config)
      if (error === undefined) usable.set(name, objects)
      else skipped.push({ name, error })
    }
    this.#model = new IncrementalProxyState(this.#config.ipFamily, this.#config.nodeName)
    this.#builder = new IncrementalIptablesBuilder(this.#config)
    this.#model.update(usable)
    return this.#build('full', new Set(all.keys()), skipped)
  }

  #build(mode: 'full' | 'partial', changed: ReadonlySet<string>, skipped: readonly SkippedService[]): NextSync {
    const { table, text } = this.#builder.build({
      state: this.#model.state,
      sync: mode === 'full' ? { mode: 'full' } : { mode: 'partial', changedServices: changed },
      existingNatChains: this.#onNode.chains('nat'),
    })
    return { table, text, changed, state: this.#model.state, skipped }
  }

  /** Records a successful apply: the node's tables after iptables-restore --noflush took it. */
  applied(table: RuleTable): void {
    this.#onNode.merge(table, 'no-flush')
  }

  /** Rules per table on the node (noflush: untouched chains count too). */
  ruleCounts(): Record<string, number> {
    const rules: Record<string, number> = {}
    for (const [name, chains] of this.#onNode.entries()) {
      let n = 0
      for (const c of chains.values()) n += c.rules.length
      rules[name] = n
    }
    return rules
  }
}
