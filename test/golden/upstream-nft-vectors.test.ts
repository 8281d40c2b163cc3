import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { runRulesCommand } from '../../src/cli/rules-command.js'
import { endpointNames, servicePortChainNameBase, sortNftablesDump } from '../../src/proxy/nftables/index.js'
import { goldenNftDir, hasShared, nftVectorCases } from '../helpers/shared.js'
import { readFileSync } from 'node:fs'

// Upstream's nftables-mode vectors (../shared/kube-proxy-golden-nft): kpe's output and the
// expected dump must be equal after upstream's sortNFTablesTransaction normalisation.
const present = hasShared(goldenNftDir)
const file = (...parts: string[]): string => join(goldenNftDir, ...parts)
const read = (...parts: string[]): string => readFileSync(file(...parts), 'utf8')

interface SyncHistory {
  readonly after?: string
  readonly staleChains?: readonly string[]
}

function syncOf(name: string): SyncHistory {
  return (parse(read(name, 'config.yaml')) as { sync?: SyncHistory }).sync ?? {}
}

describe.runIf(present)('upstream kube-proxy nftables vectors (../shared/kube-proxy-golden-nft)', () => {
  it('finds the fifteen dump cases', () => {
    expect(nftVectorCases()).toHaveLength(15)
  })

  // Cases holding flushed stale chains need sync history (next step).
  const fresh = present ? nftVectorCases().filter((n) => (syncOf(n).staleChains ?? []).length === 0) : []
  it.each(fresh)('%s: kpe rules -f input.yaml --config config.yaml matches', async (name) => {
    const out = await runRulesCommand(['-f', file(name, 'input.yaml'), '--config', file(name, 'config.yaml'), '--mode', 'nftables'])
    expect(sortNftablesDump(out)).toBe(sortNftablesDump(read(name, 'expected.nft')))
  })
})
