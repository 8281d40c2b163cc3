import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildNftablesRules, renderNftablesTransaction, type NftRuleset } from '../../src/proxy/nftables/index.js'
import { fixtureRenders, renderFixture } from '../helpers/fixtures.js'
import { repoRoot } from '../helpers/shared.js'

// Golden files rules/<fixture>/<node>.nft (IPv4) and .nft6 (IPv6): the nftables transaction a
// full sync loads on a fresh node. Regenerate with `npm run rules:update` and read the diff like code.
const renders = fixtureRenders().map((r) => ({
  ...r,
  nftPath: join(repoRoot, 'rules', r.fixture, `${r.node}.${r.family === 'IPv4' ? 'nft' : 'nft6'}`),
}))

function buildFor(r: (typeof renders)[number]): NftRuleset {
  const { input } = renderFixture(r)
  return buildNftablesRules({ state: input.state, config: input.config })
}

/** Every jump/goto target and @set/@map reference names an object the ruleset declares. */
function danglingReferences(rs: NftRuleset): string[] {
  const chains = new Set(rs.chains.map((c) => c.name as string))
  const containers = new Set([...rs.sets.map((s) => s.name), ...rs.maps.map((m) => m.name)])
  const missing: string[] = []
  const chain = (name: string): void => void (chains.has(name) || missing.push(`chain ${name}`))
  const container = (name: string): void => void (containers.has(name) || missing.push(`set/map ${name}`))
  for (const c of rs.chains) {
    for (const r of c.rules) {
      for (const m of r.matches) if (m.kind === 'addr' && m.value.kind === 'set-ref') container(m.value.set)
      for (const s of r.statements) if (s.kind === 'set-update') container(s.set)
      const v = r.verdict
      if (v?.kind === 'jump' || v?.kind === 'goto') chain(v.chain)
      if (v?.kind === 'vmap') container(v.map)
      if (v?.kind === 'numgen-vmap') v.targets.forEach(chain)
    }
  }
  for (const m of rs.maps) for (const e of m.elements) if (e.value.kind === 'goto') chain(e.value.chain)
  return missing
}

describe('lesson fixtures render to their golden nftables rules', () => {
  it.each(renders.map((r) => [`${r.fixture}/${r.node} ${r.family}`, r] as const))('%s', async (_name, r) => {
    const rs = buildFor(r)
    expect(danglingReferences(rs)).toEqual([])
    await expect(renderNftablesTransaction(rs)).toMatchFileSnapshot(r.nftPath)
  })
})
