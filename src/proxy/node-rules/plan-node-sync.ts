/**
 * What a sync must write when a node's Services and EndpointSlices went from one set to another
 * (upstream's change trackers plus KEP-3453 partial restores), as one pure function used by the
 * proxier's change tracker, `kpe rules --since` and `kpe lab sync`.
 */
import type { EndpointSlice, Service } from '../../api/index.js'
import type { ChainName } from '../../net/index.js'
import { isServiceChain, type SyncMode } from '../iptables/index.js'
import { changedServiceNames } from '../model/index.js'
import type { RuleTable } from '../netfilter/index.js'

export interface ServiceObjectSet {
  readonly services: readonly Service[]
  readonly endpointSlices: readonly EndpointSlice[]
}

export interface NodeSyncPlan {
  /** Services (`ns/name`) whose Service or slices differ: every port of each gets its chains rewritten. */
  readonly changedServices: ReadonlySet<string>
  /** The builder's sync: partial (only the changed Services' chains), or full when asked for. */
  readonly sync: SyncMode
}

/** The net change from `before` to `after` and the sync that writes it. */
export function planNodeSync(before: ServiceObjectSet, after: ServiceObjectSet, opts: { readonly full?: boolean } = {}): NodeSyncPlan {
  const changedServices = changedServiceNames(before, after)
  return { changedServices, sync: opts.full ? { mode: 'full' } : { mode: 'partial', changedServices } }
}

/**
 * The per-Service nat chains (SVC/SVL/EXT/FW/SEP) a node holds after loading `table`: a partial
 * sync keeps the unchanged ones and deletes those no Service produces any more.
 */
export function heldServiceChains(table: RuleTable): ChainName[] {
  return (table.tables.find((t) => t.name === 'nat')?.chains ?? []).map((c) => c.name).filter(isServiceChain)
}
