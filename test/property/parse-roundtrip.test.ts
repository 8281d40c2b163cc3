import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseIptablesSave, renderIptablesRestore } from '../../src/proxy/netfilter/index.js'
import { ruleTableArb } from './arbitraries.js'

describe('parseIptablesSave', () => {
  it('parse(render(t)) equals t for every table the renderer can print', () => {
    fc.assert(
      fc.property(ruleTableArb, (t) => {
        expect(parseIptablesSave(renderIptablesRestore(t), { family: t.family })).toEqual(t)
      }),
      { numRuns: 2000 },
    )
  })
  it('rendering a parsed table is a fixed point', () => {
    fc.assert(
      fc.property(ruleTableArb, (t) => {
        const once = renderIptablesRestore(t)
        expect(renderIptablesRestore(parseIptablesSave(once))).toBe(once)
      }),
      { numRuns: 500 },
    )
  })
})

describe('ruleTableArb', () => {
  it('covers every Match and Target kind', () => {
    const matchKinds = new Set<string>()
    const targetKinds = new Set<string>()
    for (const t of fc.sample(ruleTableArb, 300))
      for (const table of t.tables)
        for (const c of table.chains)
          for (const r of c.rules) {
            for (const m of r.matches) matchKinds.add(m.kind)
            if (r.target) targetKinds.add(r.target.kind)
          }
    expect([...matchKinds].sort()).toEqual(
      ['addrtype', 'comment', 'conntrack', 'destination', 'dport', 'in-interface', 'l4-module', 'mark', 'multiport', 'nfacct', 'out-interface', 'physdev', 'protocol', 'recent', 'source', 'sport', 'statistic-nth', 'statistic-random', 'unknown'].sort(),
    )
    expect([...targetKinds].sort()).toEqual(['dnat', 'goto', 'jump', 'mark', 'masquerade', 'reject', 'snat', 'unknown', 'verdict'])
  })
})
