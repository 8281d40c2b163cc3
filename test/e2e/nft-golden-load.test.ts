/**
 * Every fixture's nftables golden (rules/<fixture>/<node>.nft and .nft6, what `kpe rules --mode
 * nftables` prints) loads into a real kernel with `nft -f`, in a user+network namespace (no root
 * needed), and the kernel then holds kube-proxy's table with every chain the golden declares.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { requireUserNamespace } from '../helpers/root.js'
import { openUserNetns, userNetnsUnavailable, type UserNetns } from '../helpers/user-netns.js'

const rulesDir = join(repoRoot, 'rules')
const goldens = readdirSync(rulesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(rulesDir, d.name)).filter((f) => f.endsWith('.nft') || f.endsWith('.nft6')).map((f) => `${d.name}/${f}`))
  .sort()

if (requireUserNamespace('nft-golden-load', userNetnsUnavailable(['nft', 'list', 'ruleset']))) {
  describe('fixture nftables goldens load with nft -f', () => {
    let ns: UserNetns
    beforeAll(async () => {
      ns = await openUserNetns()
    })
    afterAll(async () => {
      await ns?.close()
    })

    it('finds the goldens', () => {
      expect(goldens.length).toBeGreaterThan(20)
    })

    it.each(goldens)('%s', async (file) => {
      const text = readFileSync(join(rulesDir, file), 'utf8')
      const family = file.endsWith('.nft6') ? 'ip6' : 'ip'
      const loaded = await ns.run(['nft', '-f', '-'], { input: text, onNonZeroExit: 'return' })
      expect(loaded.code, `nft -f ${file}: ${loaded.stderr}`).toBe(0)
      try {
        const listed = (await ns.run(['nft', 'list', 'table', family, 'kube-proxy'])).stdout
        const declared = [...text.matchAll(/^add chain \S+ kube-proxy (\S+)/gm)].map((m) => m[1]!)
        expect(declared.length).toBeGreaterThan(5)
        const held = new Set([...listed.matchAll(/^\tchain (\S+) \{/gm)].map((m) => m[1]!))
        expect(declared.filter((c) => !held.has(c))).toEqual([])
      } finally {
        await ns.run(['nft', 'delete', 'table', family, 'kube-proxy'])
      }
    })
  })
}
