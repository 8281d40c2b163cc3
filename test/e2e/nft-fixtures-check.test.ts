/**
 * Every fixture's nftables transaction (and upstream's complete example shape with a known
 * service CIDR) is accepted by the real `nft -c -f -` (check mode), in a network namespace this
 * test creates; nothing touches the root namespace.
 */
import { describe, expect, it } from 'vitest'
import { listNetns, runInNetns, withNetns } from '../../src/lab/index.js'
import type { Cidr } from '../../src/net/index.js'
import { buildNftablesRules, renderNftablesTransaction } from '../../src/proxy/nftables/index.js'
import { fixtureRenders, renderFixture } from '../helpers/fixtures.js'
import { requireLab } from '../helpers/root.js'

const prefix = `kpe-nft-${process.pid}`

if (requireLab('nft-fixtures-check', ['nft'])) {
  describe('fixture nftables rules load with the real nft -c', () => {
    const renders = fixtureRenders()

    it('nft accepts every fixture, node and family, with and without service CIDRs', async () => {
      await withNetns(prefix, async (ns) => {
        for (const r of renders) {
          const { input } = renderFixture(r)
          const serviceCIDRs = ['10.96.0.0/12', 'fd00:10:96::/108'] as Cidr[]
          for (const [form, rs] of [
            ['plain', buildNftablesRules({ state: input.state, config: input.config })],
            ['service CIDRs', buildNftablesRules({ state: input.state, config: input.config, serviceCIDRs })],
          ] as const) {
            const res = await runInNetns(ns, ['nft', '-c', '-f', '-'], { input: renderNftablesTransaction(rs), onNonZeroExit: 'return' })
            expect(res.code, `nft rejected ${r.fixture}/${r.node} ${r.family} (${form}): ${res.stderr}`).toBe(0)
          }
        }
      })
    }, 120_000)

    it('leaves no namespace behind', async () => {
      expect((await listNetns()).filter((n) => n.startsWith(prefix))).toEqual([])
    })
  })
}
