/**
 * ConnectionSlots, over random sequences of connects, first bytes and closes: never more open
 * connections than the cap, a proven connection is never evicted, and a newcomer is refused
 * only when every slot holds a proven connection.
 */
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ConnectionSlots } from '../../../src/proxy/userspace/connection-slots.js'

class FakeSocket extends EventEmitter {
  destroyed = false
  resetAndDestroy(): this {
    this.destroy()
    return this
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true
      this.emit('close')
    }
    return this
  }
}

type Op = { readonly kind: 'connect' } | { readonly kind: 'prove' | 'close'; readonly pick: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ kind: 'connect' as const }),
  fc.record({ kind: fc.constantFrom('prove' as const, 'close' as const), pick: fc.nat() }),
)

describe('ConnectionSlots', () => {
  it('keeps the cap, never evicts proven connections, refuses only when all slots are proven (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 80 }), (max, ops) => {
      const slots = new ConnectionSlots(max)
      const live: FakeSocket[] = []
      const proven = new Set<FakeSocket>()
      const closedByClient = new Set<FakeSocket>()
      for (const o of ops) {
        const open = live.filter((s) => !s.destroyed)
        if (o.kind === 'connect') {
          const allProven = open.length >= max && open.every((s) => proven.has(s))
          const s = new FakeSocket()
          const admitted = slots.admit(s as unknown as Socket)
          expect(admitted).toBe(!allProven)
          if (admitted) live.push(s)
          else expect(s.destroyed).toBe(true)
        } else if (open.length > 0) {
          const s = open[o.pick % open.length]!
          if (o.kind === 'prove') {
            slots.proven(s as unknown as Socket)
            proven.add(s)
          } else {
            closedByClient.add(s)
            s.destroy()
          }
        }
        for (const s of proven) if (s.destroyed) expect(closedByClient.has(s)).toBe(true)
        expect(slots.size).toBe(live.filter((s) => !s.destroyed).length)
        expect(slots.size).toBeLessThanOrEqual(max)
      }
    }), { seed: 7, numRuns: 500 })
  })

  it('evicts the oldest connection that has not proven itself', () => {
    const slots = new ConnectionSlots(3)
    const [a, b, c, d] = [new FakeSocket(), new FakeSocket(), new FakeSocket(), new FakeSocket()]
    for (const s of [a, b, c]) slots.admit(s as unknown as Socket)
    slots.proven(a as unknown as Socket)
    expect(slots.admit(d as unknown as Socket)).toBe(true)
    expect([a.destroyed, b.destroyed, c.destroyed, d.destroyed]).toEqual([false, true, false, false])
  })
})
