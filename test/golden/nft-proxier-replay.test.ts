import { describe, expect, it } from 'vitest'
import { renderNftablesTransaction, sortNftablesDump } from '../../src/proxy/nftables/index.js'
import { expectedOf, replaySyncRepeated, staleChainsOf } from '../helpers/nft-replay.js'
import { goldenNftDir, hasShared } from '../helpers/shared.js'

// The live loop's bookkeeping (NftProxierSync) replays upstream's TestSyncProxyRulesRepeated:
// stale chains are flushed, kept, and deleted by the clock alone, as upstream's are.
describe.runIf(hasShared(goldenNftDir))('NftProxierSync replays TestSyncProxyRulesRepeated', () => {
  const steps = hasShared(goldenNftDir) ? replaySyncRepeated().filter((s) => !s.name.endsWith('unchecked)')) : []
  it('replays twelve checks', () => {
    expect(steps).toHaveLength(12)
  })
  it.each(steps.map((s) => [s.name, s] as const))('%s', (name, s) => {
    expect(sortNftablesDump(renderNftablesTransaction(s.sync.ruleset))).toBe(sortNftablesDump(expectedOf(name)))
    expect([...s.sync.stale.stale.keys()]).toEqual(staleChainsOf(name))
    // Only the first sync is full; the rest write the changed Services only.
    expect(s.sync.full).toBe(name.startsWith('sync-repeated-01'))
  })
})
