/**
 * Saved form: every fixture's rules, loaded into a fresh namespace exactly as kube-proxy loads
 * them, read back with the kernel's iptables-save, equal `renderIptablesSave(savedView(table))`
 * per table (counters, `#` lines and table order ignored), under iptables-nft and -legacy.
 */
import { describe, expect, it } from 'vitest'
import { iptablesCommand, KernelExecutor, normalizeSaveText, runInNetns, withNetns, type IptablesBackend, type NetnsRunner } from '../../src/lab/index.js'
import { savedView } from '../../src/proxy/iptables/index.js'
import { renderIptablesRestore, renderIptablesSave } from '../../src/proxy/netfilter/index.js'
import { ensureCanaryChains, ensureJumpChains } from '../../src/proxy/proxier/index.js'
import { fixtureRenders, renderFixture } from '../helpers/fixtures.js'
import { requireLab } from '../helpers/root.js'
import { diffTables } from '../helpers/lab-diff.js'

const backends: IptablesBackend[] = ['nft', 'legacy']
const tools = backends.flatMap((b) => (['IPv4', 'IPv6'] as const).flatMap((f) => [iptablesCommand(f, b, 'iptables'), iptablesCommand(f, b, 'restore'), iptablesCommand(f, b, 'save')]))

if (requireLab('lab-saved-form', tools)) {
  describe('the kernel saves exactly what renderIptablesSave(savedView) prints', () => {
    const renders = fixtureRenders()
    describe.each(backends)('%s backend', (backend) => {
      it.each(renders.map((r) => [`${r.fixture} ${r.node} ${r.family}`, r] as const))('%s', async (_label, r) => {
        const table = renderFixture(r).table
        const expected = normalizeSaveText(renderIptablesSave(savedView(table)))
        const actual = await withNetns(`kpe-sv${backend === 'nft' ? 'n' : 'l'}`, async (ns) => {
          const run: NetnsRunner = (argv, opts) => runInNetns(ns, argv, opts)
          // What the proxier does on a fresh node: canaries at start, then a full sync.
          const executor = new KernelExecutor({ run, family: r.family, backend })
          await ensureCanaryChains(executor)
          await ensureJumpChains(executor)
          await executor.apply(renderIptablesRestore(table), { flush: 'no-flush', counters: 'restore' })
          return normalizeSaveText((await run([iptablesCommand(r.family, backend, 'save')])).stdout)
        })
        expect([...actual.keys()].sort()).toEqual(["filter", "mangle", "nat"])
        expect(actual.get("nat")).toContain("-A KUBE-SERVICES")
        const diff = diffTables(expected, actual)
        expect(diff, diff.join('\n')).toEqual([])
      })
    })
  })
}
