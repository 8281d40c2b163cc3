/**
 * nftables mode in the kernel lab: fixtures whose KubeProxyConfiguration says `mode: nftables`
 * are loaded with `nft -f` into the node namespaces, and real connections must give the answers
 * the interpreter gives for the same cluster (both modes promise the same Service behaviour on
 * these rows; localhost NodePorts, which nftables mode never serves, are left out). Then a
 * change is synced and the kernel's table and traffic follow it.
 */
import { describe, expect, it } from 'vitest'
import type { ManifestSet } from '../../src/api/index.js'
import { labProbe, listNetns, NftKernelExecutor, labRunner, saveNodeRules, syncLabProxiers } from '../../src/lab/index.js'
import { clusterObjects } from '../../src/proxy/model/index.js'
import { loadFixture } from '../helpers/fixtures.js'
import { Oracle, oracleRows, runOracleRows } from '../helpers/lab-oracle.js'
import { configOf, testLabPrefix, withLab } from '../helpers/lab-session.js'
import { requireLab } from '../helpers/root.js'

const prefix = testLabPrefix('n')

/** The fixture with its KubeProxyConfiguration switched to nftables mode. */
function inNftablesMode(fixture: string): ManifestSet {
  const m = loadFixture(fixture)
  const kpc = m.kubeProxyConfigurations[0]
  if (!kpc) throw new Error(`${fixture} has no KubeProxyConfiguration`)
  return { ...m, kubeProxyConfigurations: [{ ...kpc, object: { ...kpc.object, mode: 'nftables' } }] }
}

if (requireLab('lab-nftables', ['nft', 'sysctl', 'node'])) {
  describe('kpe lab in nftables mode', () => {
    it.each(['demo', 'loadbalancer-source-ranges', 'external-traffic-policy-local'])('%s: the kernel (nft) and the interpreter agree', async (fixture) => {
      const manifests = inNftablesMode(fixture)
      await withLab(manifests, { prefix, backend: 'nft' }, async (lab) => {
        const node = lab.plan.nodes[0]!
        const run = labRunner(lab.state, node.netns)
        // nft holds kube-proxy's table; iptables holds no KUBE- chain.
        const listed = await new NftKernelExecutor({ run }).list('ip')
        expect(listed).toMatch(/^table ip kube-proxy \{/m)
        expect(listed).toContain('map service-ips')
        expect(await saveNodeRules(run, 'IPv4', 'nft')).not.toContain('KUBE-')
        const objects = clusterObjects(manifests)
        const rows = oracleRows(lab.plan, objects.services, objects.endpointSlices, { localhostNodePorts: false })
        const verdicts = await runOracleRows(lab.state, new Oracle(lab.plan, lab.rules), rows)
        expect(verdicts.flatMap((v) => v.problems)).toEqual([])
        expect(verdicts.length).toBeGreaterThan(3)
      })
    }, 150_000)

    it('a sync rewrites the kernel table: a Service that loses its endpoints is rejected', async () => {
      const before = inNftablesMode('clusterip-basic')
      await withLab(before, { prefix, backend: 'nft' }, async (lab) => {
        const svc = clusterObjects(before).services[0]!
        const ip = svc.spec.clusterIP!
        const port = svc.spec.ports![0]!.port
        const client = lab.plan.pods.find((p) => p.isClient)!
        const probe = () => labProbe(lab.state, { from: `pod/${client.key}`, dst: ip, port, proto: 'tcp', min: 6, max: 30, parallel: 6, timeoutMs: 2000 })
        const first = await probe()
        expect(first.refused).toBe(0)
        expect(Object.keys(first.answers).length).toBeGreaterThan(0)
        // The Service now selects no pod: no endpoints, so kube-proxy rejects its traffic.
        const after: ManifestSet = { ...before, services: before.services.map((l) => (l.object === svc ? { ...l, object: { ...svc, spec: { ...svc.spec, selector: { app: 'nothing-selects-this' } } } } : l)) }
        const synced = await syncLabProxiers(lab.state, { manifests: after, config: configOf(after), before })
        expect(synced.every((s) => s.failures === 0)).toBe(true)
        const listed = await new NftKernelExecutor({ run: labRunner(lab.state, lab.plan.nodes[0]!.netns) }).list('ip')
        expect(listed).toMatch(new RegExp(`${ip.replace(/\./g, '\\.')} \\. tcp \\. ${port} comment "[^"]*" : goto reject-chain`))
        const second = await probe()
        expect(second.answers).toEqual({})
        expect(second.refused).toBe(second.attempts)
      })
    }, 120_000)

    it('leaves no namespace behind', async () => {
      expect((await listNetns()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([])
    })
  })
}
