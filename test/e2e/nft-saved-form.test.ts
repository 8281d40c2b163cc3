/**
 * The nftables saved form (`kpe rules --mode nftables --as-saved`: the table as `nft list table`
 * prints it) equals what the kernel prints after loading the fixture's golden with `nft -f`, for
 * every fixture, node and family, in a user+network namespace (no root needed). Runs once the
 * CLI offers the flag in nftables mode (issue 15 item 3); until then it says why it skips.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtureRenders, staticFixturePath } from '../helpers/fixtures.js'
import { requireUserNamespace } from '../helpers/root.js'
import { repoRoot } from '../helpers/shared.js'
import { openUserNetns, userNetnsUnavailable, type UserNetns } from '../helpers/user-netns.js'

const cli = join(repoRoot, 'dist/src/cli/main.js')

function savedForm(fixture: string, node: string, family: 'IPv4' | 'IPv6'): { code: number; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [cli, 'rules', '-f', staticFixturePath(fixture), '--mode', 'nftables', '--as-saved', '--node', node, '--ip-family', family === 'IPv4' ? '4' : '6'], { cwd: repoRoot, encoding: 'utf8' })
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr }
}

const renders = fixtureRenders()
const first = renders[0]!
const probe = savedForm(first.fixture, first.node, first.family)
const notYet = /not available in nftables mode/.test(probe.stderr) ? 'the CLI does not offer --as-saved in nftables mode yet (issue 15 item 3, nftrender)' : undefined

if (notYet !== undefined) {
  console.info(`[nft-saved-form] skipped: ${notYet}`)
  describe.skip(`nftables saved form equals the kernel's nft list table (skipped: ${notYet})`, () => {
    it('every fixture', () => {})
  })
} else if (requireUserNamespace('nft-saved-form', userNetnsUnavailable(['nft', 'list', 'ruleset']))) {
  describe("nftables saved form equals the kernel's nft list table", () => {
    let ns: UserNetns
    beforeAll(async () => {
      ns = await openUserNetns()
    })
    afterAll(async () => {
      await ns?.close()
    })

    it.each(renders.map((r) => [`${r.fixture}/${r.node} ${r.family}`, r] as const))('%s', async (_n, r) => {
      const nftFamily = r.family === 'IPv4' ? 'ip' : 'ip6'
      const golden = readFileSync(join(repoRoot, 'rules', r.fixture, `${r.node}.${r.family === 'IPv4' ? 'nft' : 'nft6'}`), 'utf8')
      await ns.run(['nft', '-f', '-'], { input: golden })
      try {
        const kernel = (await ns.run(['nft', 'list', 'table', nftFamily, 'kube-proxy'])).stdout
        const saved = savedForm(r.fixture, r.node, r.family)
        expect(saved.code, saved.stderr).toBe(0)
        expect(saved.stdout).toBe(kernel)
      } finally {
        await ns.run(['nft', 'delete', 'table', nftFamily, 'kube-proxy'])
      }
    })
  })
}
