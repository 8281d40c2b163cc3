/**
 * kpe rules --all-nodes shares rule work between nodes (iptables/ and nftables/cluster-rules.ts):
 * every fixture's every node and family must still equal its golden under rules/ in both modes,
 * byte for byte, and the command's output must equal rendering each node with --node.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runRulesCommand } from '../../../src/cli/rules-command.js'
import { buildAllNodesNftRules, buildAllNodesRules } from '../../../src/proxy/node-rules/index.js'
import { buildNftablesRules } from '../../../src/proxy/nftables/index.js'
import { fixtureNames, fixtureRenders, loadFixture, renderFixture, staticFixturePath } from '../../helpers/fixtures.js'
import { repoRoot } from '../../helpers/shared.js'

describe('every node of a fixture at once', () => {
  const groups = new Map<string, ReturnType<typeof fixtureRenders>>()
  for (const r of fixtureRenders()) {
    const key = `${r.fixture} ${r.family}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }

  it.each([...groups])('%s: each node equals its golden and its table built alone', (_key, renders) => {
    const { fixture, family } = renders[0]!
    const manifests = loadFixture(fixture)
    const kpc = manifests.kubeProxyConfigurations[0]?.object
    const shared = buildAllNodesRules({ manifests, ...(kpc ? { kubeProxyConfiguration: kpc } : {}), ipFamily: family }, renders.map((r) => r.node))
    renders.forEach((r, i) => {
      expect(shared[i]!.nodeName).toBe(r.node)
      expect(shared[i]!.text).toBe(readFileSync(r.goldenPath, 'utf8'))
      expect(shared[i]!.table()).toEqual(renderFixture(r).table)
    })
  })

  it.each([...groups])('%s in nftables mode: each node equals its golden and its ruleset built alone', (_key, renders) => {
    const { fixture, family } = renders[0]!
    const manifests = loadFixture(fixture)
    const kpc = manifests.kubeProxyConfigurations[0]?.object
    const shared = buildAllNodesNftRules({ manifests, ...(kpc ? { kubeProxyConfiguration: kpc } : {}), ipFamily: family }, renders.map((r) => r.node))
    renders.forEach((r, i) => {
      const golden = join(repoRoot, 'rules', r.fixture, `${r.node}.${family === 'IPv4' ? 'nft' : 'nft6'}`)
      expect(shared[i]!.text).toBe(readFileSync(golden, 'utf8'))
      const { input } = renderFixture(r)
      expect(shared[i]!.ruleset()).toEqual(buildNftablesRules({ state: input.state, config: input.config }))
    })
  })

  it.each(fixtureNames().filter((f) => loadFixture(f).nodes.length > 1))('kpe rules --all-nodes on %s prints what --node prints per node, in both modes', async (fixture) => {
    const file = join(repoRoot, staticFixturePath(fixture))
    const nodes = loadFixture(fixture).nodes.map((n) => n.object.metadata.name!)
    for (const flags of [[], ['--as-saved'], ['--mode', 'nftables'], ['--mode', 'nftables', '--as-saved']]) {
      let expected = ''
      for (const node of nodes) expected += `# kpe: node ${node} (IPv4)\n${await runRulesCommand(['-f', file, '--node', node, '--ip-family', '4', ...flags])}`
      expect(await runRulesCommand(['-f', file, '--all-nodes', '--ip-family', '4', ...flags])).toBe(expected)
    }
  })

  it('has goldens for the fixtures it checks', () => {
    expect(fixtureRenders().filter((r) => existsSync(r.goldenPath)).length).toBeGreaterThanOrEqual(30)
  })
})
