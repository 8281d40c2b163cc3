import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Origin } from '../../src/proxy/netfilter/index.js'
import { compile, createInterpreterState, explore, sample } from '../../src/proxy/netfilter/index.js'
import { FakeClock, seededRandom } from '../helpers/seeded-random.js'
import { interpretableTableArb, packetArb } from './arbitraries.js'

const node = { localAddresses: new Set(['192.168.0.2', '127.0.0.1']) }
const originArb = fc.constantFrom<Origin>('external', 'local')

describe('compiled dispatch index', () => {
  it('indexes service-like rules in generated tables', () => {
    const indexed = fc.sample(interpretableTableArb, 200).filter((t) => {
      const c = compile(t, { minIndexedRules: 1 })
      return [...c.nat.chains.values(), ...c.filter.chains.values()].some((ch) => ch.index && ch.index.byPort.size > 0)
    })
    expect(indexed.length).toBeGreaterThan(100)
  })

  it('explore with the index returns exactly what a linear walk returns', () => {
    fc.assert(
      fc.property(interpretableTableArb, fc.array(packetArb, { minLength: 1, maxLength: 5 }), originArb, (table, packets, origin) => {
        const compiled = compile(table, { minIndexedRules: 1 })
        for (const p of packets) {
          const indexed = explore(compiled, p, node, { origin, maxOutcomes: 2000 })
          const linear = explore(compiled, p, node, { origin, maxOutcomes: 2000, linear: true })
          expect(indexed).toEqual(linear)
        }
      }),
      { numRuns: 1500 },
    )
  })

  it('sample with the index draws the same random numbers and ends the same way as a linear walk', () => {
    fc.assert(
      fc.property(interpretableTableArb, fc.array(packetArb, { minLength: 1, maxLength: 10 }), originArb, fc.integer(), (table, packets, origin, seed) => {
        const compiled = compile(table, { minIndexedRules: 1 })
        const run = (linear: boolean): unknown[] => {
          const random = seededRandom(seed)
          const state = createInterpreterState()
          const clock = new FakeClock()
          return packets.map((p) => {
            clock.advance(1000)
            return sample(compiled, p, node, { origin, state, random, clock, trace: true, linear })
          })
        }
        expect(run(false)).toEqual(run(true))
      }),
      { numRuns: 1000 },
    )
  })

  it('outcome probabilities of explore sum to 1', () => {
    fc.assert(
      fc.property(interpretableTableArb, packetArb, originArb, (table, p, origin) => {
        const r = explore(table, p, node, { origin, maxOutcomes: 5000 })
        fc.pre(!r.truncated)
        expect(r.outcomes.reduce((s, o) => s + o.probability, 0)).toBeCloseTo(1, 9)
      }),
      { numRuns: 500 },
    )
  })
})
