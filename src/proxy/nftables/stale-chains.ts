/**
 * Upstream's stale-chain rule for nftables mode (syncProxyRules at 531be812): a service or
 * endpoint chain no Service uses any more is flushed, not deleted (before Linux 6.2 the kernel
 * may still see a map element pointing at it), and deleted by the first sync starting over 1 s later.
 */
import type { ChainName } from '../../net/index.js'
import { isServiceChainName } from './names.js'
import type { NftRuleset } from './types.js'

/** How long a flushed chain is kept before a sync deletes it. */
export const staleChainDelayMs = 1000

/** Stale chain -> the start time (ms) of the sync that last found it unused. */
export type StaleChains = ReadonlyMap<ChainName, number>

export interface StaleChainsStep {
  /** Stale for over staleChainDelayMs at this sync's start: deleted (before anything else). */
  readonly deleted: readonly ChainName[]
  /** Held service chains this sync's rules do not use: flushed now (again, for older stale ones). */
  readonly flushed: readonly ChainName[]
  /** The history after this sync. */
  readonly stale: StaleChains
}

/**
 * One sync's step: first delete what aged out, then flush every held service chain the new
 * rules do not use and stamp it with this sync's start (upstream re-stamps a chain each sync
 * that still finds it unused, so it ages from the last such sync). A used chain leaves the history.
 */
export function stepStaleChains(input: { readonly held: Iterable<ChainName>; readonly active: ReadonlySet<ChainName>; readonly stale: StaleChains; readonly now: number }): StaleChainsStep {
  const deleted = [...input.stale].filter(([, since]) => since < input.now - staleChainDelayMs).map(([c]) => c)
  const gone = new Set(deleted)
  const flushed: ChainName[] = []
  const stale = new Map<ChainName, number>()
  for (const chain of new Set(input.held)) {
    if (gone.has(chain) || !isServiceChainName(chain) || input.active.has(chain)) continue
    flushed.push(chain)
    stale.set(chain, input.now)
  }
  return { deleted, flushed, stale }
}

/** The table with the flushed chains it still holds, as empty chains after the rest; a chain in use stays as it is. */
export function withStaleChains(rs: NftRuleset, stale: readonly ChainName[]): NftRuleset {
  const have = new Set(rs.chains.map((c) => c.name))
  const added = [...new Set(stale)].filter((c) => !have.has(c)).map((name) => ({ name, rules: [], stale: true as const }))
  return added.length === 0 ? rs : { ...rs, chains: [...rs.chains, ...added] }
}
