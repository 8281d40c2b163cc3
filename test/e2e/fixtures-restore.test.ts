/**
 * Every fixture's rendered rules (restore input and the saved form) are accepted by the real
 * iptables-restore / ip6tables-restore --test, legacy and nft backends, in a namespace this
 * test creates. Legacy's --test also resolves jump targets, so dangling jumps fail here.
 */
import { describe, expect, it } from 'vitest'
import { listNetns, restoreCommand, runInNetns, withNetns, type IptablesBackend } from '../../src/lab/index.js'
import { savedView } from '../../src/proxy/iptables/index.js'
import { renderIptablesRestore, renderIptablesSave } from '../../src/proxy/netfilter/index.js'
import { fixtureRenders, renderFixture } from '../helpers/fixtures.js'
import { requireLab } from '../helpers/root.js'

const backends: IptablesBackend[] = ['legacy', 'nft']
const tools = backends.flatMap((backend) => [restoreCommand({ family: 'IPv4', backend }), restoreCommand({ family: 'IPv6', backend })])
const prefix = `kpe-fx-${process.pid}`

if (requireLab('fixtures-restore', tools)) {
  describe('fixture rules load with the real iptables-restore --test', () => {
    const renders = fixtureRenders()

    it.each(backends)('%s backend accepts every fixture, node and family', async (backend) => {
      await withNetns(prefix, async (ns) => {
        for (const r of renders) {
          const table = renderFixture(r).table
          for (const [form, text] of [['restore', renderIptablesRestore(table)], ['saved', renderIptablesSave(savedView(table))]] as const) {
            const tool = restoreCommand({ family: r.family, backend })
            const res = await runInNetns(ns, [tool, '--test'], { input: text, onNonZeroExit: 'return' })
            expect(res.code, `${tool} rejected ${r.fixture}/${r.node} ${r.family} (${form}): ${res.stderr}`).toBe(0)
          }
        }
      })
    }, 120_000)

    it('leaves no namespace behind', async () => {
      expect((await listNetns()).filter((n) => n.startsWith(prefix))).toEqual([])
    })
  })
}
