import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Origin, Packet } from '../../src/proxy/netfilter/index.js'
import type { RandomSource } from '../../src/runtime/index.js'
import { compile, createInterpreterState, explore, parseIptablesSave, sample } from '../../src/proxy/netfilter/index.js'
import type { Match, Rule, RuleTable, Target } from '../../src/proxy/netfilter/types.js'
import { referenceExplore, referenceSample } from '../helpers/reference-interpreter.js'
import { FakeClock, seededRandom } from '../helpers/seeded-random.js'
import { interpretableTableArb, matchArb, packetArb, poolIPs, targetArb } from './arbitraries.js'

// The compact program (program.ts, walk-chain.ts) against the rule-by-rule object walk it
// replaced (test/helpers/reference-interpreter.ts): same outcomes, hops, notes and random draws.

const node = { localAddresses: new Set(['192.168.0.2', '127.0.0.1']) }
const originArb = fc.constantFrom<Origin>('external', 'local')

/** Interpretable tables with any match or target spliced into some rules, for the rarer opcodes. */
const spiced = fc
  .tuple(
    interpretableTableArb,
    fc.array(fc.tuple(fc.nat(), fc.nat(), matchArb), { maxLength: 6 }),
    fc.array(fc.tuple(fc.nat(), targetArb), { maxLength: 2 }),
  )
  .map(([table, matches, targets]): RuleTable => {
    const rules: { rule: Rule; set: (r: Rule) => void }[] = []
    const tables = table.tables.map((t) => ({
      ...t,
      chains: t.chains.map((c) => {
        const chain = { ...c, rules: [...c.rules] }
        chain.rules.forEach((rule, i) => rules.push({ rule, set: (r) => (chain.rules[i] = r) }))
        return chain
      }),
    }))
    if (rules.length > 0) {
      for (const [at, pos, m] of matches) {
        const slot = rules[at % rules.length]!
        const ms: Match[] = [...slot.rule.matches]
        ms.splice(pos % (ms.length + 1), 0, m)
        slot.rule = { ...slot.rule, matches: ms }
        slot.set(slot.rule)
      }
      for (const [at, target] of targets) {
        const slot = rules[at % rules.length]!
        slot.rule = { ...slot.rule, target: target satisfies Target }
        slot.set(slot.rule)
      }
    }
    return { ...table, tables }
  })

const spicedPacketArb: fc.Arbitrary<Packet> = fc
  .tuple(
    packetArb,
    fc.option(fc.constantFrom(40000, 53, 80), { nil: undefined }),
    fc.option(fc.constantFrom('eth0', 'cni0', 'lo'), { nil: undefined }),
    fc.option(fc.constantFrom('eth0', 'cni0'), { nil: undefined }),
    fc.option(fc.constantFrom(0x4000, 0x8000, 1), { nil: undefined }),
    fc.constantFrom<string | undefined>(undefined, undefined, undefined, 'fd00::1', 'fd00::a'),
  )
  .map(([p, sport, inInterface, outInterface, mark, v6]) => {
    const { sport: _drop, ...rest } = p
    return {
      ...rest,
      ...(v6 !== undefined ? { dst: v6 } : {}),
      ...(sport !== undefined ? { sport } : {}),
      ...(inInterface !== undefined ? { inInterface } : {}),
      ...(outInterface !== undefined ? { outInterface } : {}),
      ...(mark !== undefined ? { mark } : {}),
    }
  })

/** Counts draws, so "the same outcome" also means "the same random numbers used". */
function counting(seed: number): RandomSource & { draws: number } {
  const r = seededRandom(seed)
  return {
    draws: 0,
    next() {
      this.draws++
      return r.next()
    },
  }
}

describe('compact program walk', () => {
  it('sample returns exactly what the rule-by-rule walk returns, drawing the same random numbers', () => {
    fc.assert(
      fc.property(
        spiced,
        fc.array(spicedPacketArb, { minLength: 1, maxLength: 8 }),
        originArb,
        fc.integer(),
        fc.constantFrom(1, 16),
        fc.boolean(),
        fc.boolean(),
        (table, packets, origin, seed, minIndexedRules, trace, linear) => {
          const compiled = compile(table, { minIndexedRules })
          const run = (walk: typeof sample): { outcomes: unknown[]; draws: number } => {
            const random = counting(seed)
            const state = createInterpreterState()
            const clock = new FakeClock()
            const outcomes = packets.map((p) => {
              clock.advance(1000)
              return walk(compiled, p, node, { origin, state, random, clock, trace, linear })
            })
            return { outcomes, draws: random.draws }
          }
          expect(run(sample)).toEqual(run(referenceSample))
        },
      ),
      { numRuns: 1500 },
    )
  })

  it('explore returns exactly what the rule-by-rule walk returns', () => {
    fc.assert(
      fc.property(spiced, spicedPacketArb, originArb, fc.constantFrom(1, 16), fc.boolean(), (table, p, origin, minIndexedRules, linear) => {
        const compiled = compile(table, { minIndexedRules })
        const opts = { origin, maxOutcomes: 500, linear }
        expect(explore(compiled, p, node, opts)).toEqual(referenceExplore(compiled, p, node, opts))
      }),
      { numRuns: 1000 },
    )
  })

  it('after DNAT the packet carries the new address, as later matches and recent lists see it', () => {
    const table = parseIptablesSave(`*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -d 10.180.0.7/32 -p tcp --dport 8080 -m recent --name SEEN --set --rdest -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 172.30.0.10/32 -p tcp --dport 80 -j DNAT --to-destination 10.180.0.7:8080
COMMIT
`)
    const p: Packet = { src: '10.0.0.5', dst: '172.30.0.10', proto: 'tcp', dport: 80 }
    const opts = { origin: 'external' as const, state: createInterpreterState(), random: seededRandom(1), clock: new FakeClock() }
    const o = sample(compile(table), p, node, opts)
    expect(o.verdict).toEqual({ kind: 'dnat', to: '10.180.0.7:8080', address: '10.180.0.7', port: 8080 })
    expect(o.decidedAt).toEqual({ table: 'filter', chain: 'FORWARD', rule: 1 })
    expect(o.recent).toEqual([{ name: 'SEEN', address: '10.180.0.7', op: 'set' }])
  })

  it('a bad packet address is refused the same way', () => {
    const compiled = compile({ family: 'IPv4', tables: [] })
    const opts = { origin: 'external' as const, state: createInterpreterState(), random: seededRandom(1), clock: new FakeClock() }
    const p: Packet = { src: 'nope', dst: poolIPs[0], proto: 'tcp', dport: 80 }
    expect(() => sample(compiled, p, node, opts)).toThrow(/not an IP address/)
    expect(() => referenceSample(compiled, p, node, opts)).toThrow(/not an IP address/)
  })
})
