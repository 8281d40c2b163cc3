/**
 * `kpe rules --mode nftables --as-saved` equals what the kernel prints: every fixture's table
 * (each node and family) and every upstream vector is loaded with `nft -f` in a throwaway user+
 * network namespace (`unshare -rn`; nothing touches the root namespace) and listed back.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runRulesCommand } from '../../src/cli/rules-command.js'
import { buildNftablesRules, renderNftablesSaved, renderNftablesTransaction, type NftRuleset } from '../../src/proxy/nftables/index.js'
import { fixtureRenders, renderFixture } from '../helpers/fixtures.js'
import { isCI } from '../helpers/root.js'
import { goldenNftDir, hasShared, nftVectorCases } from '../helpers/shared.js'

function problem(): string | undefined {
  const r = spawnSync('unshare', ['-rn', 'nft', 'list', 'ruleset'], { encoding: 'utf8' })
  if (r.error) return `unshare or nft not runnable: ${r.error.message}`
  return r.status === 0 ? undefined : `unshare -rn nft failed: ${r.stderr.trim()}`
}

const missing = problem()
if (missing !== undefined && !isCI) console.warn(`[nft-saved-kernel] skipped: ${missing}`)

const dir = mkdtempSync(join(tmpdir(), 'kpe-nft-saved-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Loads each ruleset in turn (deleting the previous table) and returns what `nft list table` printed for each. */
function kernelListings(rulesets: readonly NftRuleset[]): string[] {
  const steps = rulesets.map((rs, i) => {
    const f = join(dir, `t-${i}.nft`)
    writeFileSync(f, renderNftablesTransaction(rs))
    return `nft -f '${f}' && echo '=====' && nft list table ${rs.family} kube-proxy && nft delete table ${rs.family} kube-proxy`
  })
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', steps.join(' && ')], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
  expect(r.status, r.stderr).toBe(0)
  return r.stdout.split('=====\n').slice(1)
}

describe.runIf(missing === undefined || isCI)('the saved form equals the kernel\'s nft list table', () => {
  it('needs unshare -rn and nft when CI is set', () => {
    expect(missing).toBeUndefined()
  })

  it('for every fixture, node and family', () => {
    const renders = fixtureRenders()
    const rulesets = renders.map((r) => {
      const { input } = renderFixture(r)
      return buildNftablesRules({ state: input.state, config: input.config, serviceCIDRs: ['10.96.0.0/16', '10.97.0.0/16', 'fd00:10:96::/112'] as never })
    })
    const listed = kernelListings(rulesets)
    rulesets.forEach((rs, i) => expect(renderNftablesSaved(rs), `${renders[i]!.fixture}/${renders[i]!.node} ${renders[i]!.family}`).toBe(listed[i]))
  }, 60_000)

  it.runIf(hasShared(goldenNftDir))('for every upstream vector, through kpe rules --as-saved', async () => {
    const names = nftVectorCases()
    const outs = await Promise.all(names.map((n) => runRulesCommand(['-f', join(goldenNftDir, n, 'input.yaml'), '--config', join(goldenNftDir, n, 'config.yaml'), '--as-saved'])))
    const plain = await Promise.all(names.map((n) => runRulesCommand(['-f', join(goldenNftDir, n, 'input.yaml'), '--config', join(goldenNftDir, n, 'config.yaml')])))
    const steps = plain.map((t, i) => {
      const f = join(dir, `v-${i}.nft`)
      writeFileSync(f, t)
      return `nft -f '${f}' && echo '=====' && nft list table ip kube-proxy && nft delete table ip kube-proxy`
    })
    const r = spawnSync('unshare', ['-rn', 'sh', '-c', steps.join(' && ')], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    const listed = r.stdout.split('=====\n').slice(1)
    names.forEach((n, i) => expect(outs[i], n).toBe(listed[i]))
    expect(readFileSync(join(goldenNftDir, names[0]!, 'config.yaml'), 'utf8')).toContain('nftables')
  }, 60_000)
})
