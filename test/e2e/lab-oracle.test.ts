/**
 * The kernel judges the interpreter on the lesson fixtures: each fixture becomes a lab, every
 * row (client pods, a hairpin pod, the nodes, the external host -> ClusterIPs, NodePorts, LB
 * IPs, external IPs) is answered by real connections and by explore(), and the two must agree:
 * which pods answered, refused vs no answer, and whether the pod saw the client's own address.
 */
import { describe, expect, it } from 'vitest'
import { iptablesCommand, listNetns } from '../../src/lab/index.js'
import { clusterObjects } from '../../src/proxy/model/index.js'
import { loadFixture } from '../helpers/fixtures.js'
import { Oracle, oracleRows, runOracleRows, type RowVerdict } from '../helpers/lab-oracle.js'
import { testLabPrefix, withLab } from '../helpers/lab-session.js'
import { requireLab } from '../helpers/root.js'

const fixtures = [
  'clusterip-basic', // ClusterIP, endpoints on two nodes
  'external-traffic-policy-local', // NodePort and LB with externalTrafficPolicy Local
  'loadbalancer-source-ranges', // LB source ranges
  'session-affinity', // ClientIP affinity
  'no-endpoints', // REJECT
  'demo', // all of it together, UDP and an LB with Local policy
  'external-ips',
  'nodeport',
]

const prefix = testLabPrefix('o')

if (requireLab('lab-oracle', [iptablesCommand('IPv4', 'nft', 'iptables'), iptablesCommand('IPv4', 'nft', 'restore'), 'sysctl', 'node'])) {
  describe('the kernel and the interpreter agree on the fixtures', () => {
    const all: RowVerdict[] = []

    it.each(fixtures)('%s', async (fixture) => {
      const manifests = loadFixture(fixture)
      await withLab(manifests, { prefix, backend: 'nft' }, async (lab) => {
        const objects = clusterObjects(manifests)
        const oracle = new Oracle(lab.plan, lab.rules)
        const rows = oracleRows(lab.plan, objects.services, objects.endpointSlices, { localhostNodePorts: lab.rules.some((r) => r.input.config.localhostNodePorts) })
        const verdicts = await runOracleRows(lab.state, oracle, rows)
        all.push(...verdicts)
        expect(verdicts.flatMap((v) => v.problems)).toEqual([])
        expect(verdicts.length).toBeGreaterThan(3)
      })
    }, 120_000)

    it('covered load balancing, affinity, REJECT, DROP and masquerade', () => {
      const pods = (v: RowVerdict): string[] => [...v.expected.results.keys()].filter((k) => k !== 'refused' && k !== 'no-answer')
      expect(all.some((v) => pods(v).length >= 3 && !v.expected.affinity)).toBe(true)
      expect(all.some((v) => v.expected.affinity && pods(v).length >= 2)).toBe(true)
      expect(all.some((v) => v.expected.results.has('refused') && v.probe.refused > 0)).toBe(true)
      expect(all.some((v) => v.expected.results.has('no-answer') && v.probe.timeout > 0)).toBe(true)
      const seen = (v: RowVerdict): string[] => pods(v).flatMap((p) => [...v.expected.results.get(p)!])
      expect(all.some((v) => seen(v).some((a) => a !== v.row.sourceIP))).toBe(true) // masqueraded
      expect(all.some((v) => seen(v).some((a) => a === v.row.sourceIP))).toBe(true) // client address kept
    })

    it('leaves no namespace behind', async () => {
      expect((await listNetns()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([])
    })
  })
}
