/**
 * `kpe trace` explains a DROP or REJECT from the deciding rule's typed origin; only a foreign
 * dump (no origins) falls back to kube-proxy's comments, and both agree on kpe's own rules.
 */
import { describe, expect, it } from 'vitest'
import { savedView, type Provenance } from '../../../src/proxy/iptables/index.js'
import { parseIptablesSave, renderIptablesSave, type Packet, type Rule, type RuleTable } from '../../../src/proxy/netfilter/index.js'
import { buildNodeRules } from '../../../src/proxy/node-rules/index.js'
import { meaningFromComments, meaningFromOrigins, traceRules, type ExplainRule, type TraceContext } from '../../../src/proxy/trace/index.js'
import { loadFixture } from '../../helpers/fixtures.js'

function built(fixture: string, nodeName: string): { table: RuleTable; provenance: Provenance } {
  const provenance: Provenance = new Map()
  const { table } = buildNodeRules({ manifests: loadFixture(fixture), nodeName, ipFamily: 'IPv4', provenance })
  return { table: savedView(table, provenance), provenance }
}

function context(explain: ExplainRule): TraceContext {
  return { node: 'node-a', ctx: { localAddresses: new Set(['192.168.77.10']) }, origin: 'external', from: 'client', to: 'service', podOf: () => undefined, masqueradeAddress: () => undefined, explain }
}

/** The same table with every comment removed, and the origins carried over to the new rule objects. */
function withoutComments(table: RuleTable, provenance: Provenance): { table: RuleTable; provenance: Provenance } {
  const moved: Provenance = new Map()
  const strip = (r: Rule): Rule => {
    const copy: Rule = { ...r, matches: r.matches.filter((m) => m.kind !== 'comment') }
    const o = provenance.get(r)
    if (o) moved.set(copy, o)
    return copy
  }
  return { table: { ...table, tables: table.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: c.rules.map(strip) })) })) }, provenance: moved }
}

const toGhost: Packet = { src: '203.0.113.9', dst: '10.96.0.19', proto: 'tcp', dport: 80 }

describe('trace explanations from typed origins', () => {
  it('names the Service of a REJECT from its origin, even with no comment in the table', () => {
    const b = built('no-endpoints', 'node-a')
    const bare = withoutComments(b.table, b.provenance)
    const report = traceRules(bare.table, toGhost, context(meaningFromOrigins(bare.provenance)))
    expect(report.outcomes.map((o) => o.reason)).toEqual(['service default/ghost:http has no ready endpoints: connection refused'])
  })

  it('a dump without comments has nothing to explain from: the rule is named instead', () => {
    const b = built('no-endpoints', 'node-a')
    const bare = withoutComments(b.table, b.provenance)
    const report = traceRules(bare.table, toGhost, context(meaningFromComments))
    expect(report.outcomes[0]!.verdict).toBe('REJECT')
    expect(report.outcomes[0]!.reason).toMatch(/^filter KUBE-SERVICES rule \d+$/)
  })

  it.each([
    ['no-endpoints', 'node-a', toGhost, /no ready endpoints/],
    ['demo', 'node-c', undefined, /^externalTrafficPolicy Local/],
    ['external-ips', 'node-b', undefined, /no (ready|local) endpoints/],
    ['external-traffic-policy-local', 'node-c', undefined, /^externalTrafficPolicy Local/],
    ['loadbalancer-source-ranges', 'node-a', undefined, /not in loadBalancerSourceRanges of /],
    ['internal-traffic-policy-local', 'node-b', undefined, /^internalTrafficPolicy Local/],
  ] as const)('origins and the dump fallback give the same reasons on %s', (fixture, node, packet, expected) => {
    const b = built(fixture, node)
    const dump = parseIptablesSave(renderIptablesSave(b.table))
    // Every capture address and port of the table, so each DROP/REJECT rule gets met.
    const packets = packet ? [packet] : capturePackets(b.table)
    expect(packets.length).toBeGreaterThan(0)
    let denied = 0
    for (const p of packets) {
      for (const src of ['203.0.113.9', '10.244.1.5']) {
        const q = { ...p, src }
        const fromOrigins = traceRules(b.table, q, context(meaningFromOrigins(b.provenance))).outcomes.map((o) => o.reason)
        const fromComments = traceRules(dump, q, context(meaningFromComments)).outcomes.map((o) => o.reason)
        expect(fromOrigins).toEqual(fromComments)
        denied += fromOrigins.filter((r) => expected.test(r)).length
      }
    }
    expect(denied).toBeGreaterThan(0)
  })
})

/** One packet per destination address and port that a filter or nat rule of the table matches. */
function capturePackets(table: RuleTable): Packet[] {
  const out = new Map<string, Packet>()
  for (const t of table.tables) {
    for (const c of t.chains) {
      for (const r of c.rules) {
        const d = r.matches.find((m) => m.kind === 'destination')
        const p = r.matches.find((m) => m.kind === 'dport')
        if (d?.kind !== 'destination' || p?.kind !== 'dport' || d.address.includes('/')) continue
        out.set(`${d.address}:${p.port.from}`, { src: '', dst: d.address, proto: 'tcp', dport: p.port.from })
      }
    }
  }
  return [...out.values()]
}
