/**
 * The forward proxy's per-connection timeouts, tick by tick, without timers: which tick closes a
 * connection that sends half a head, goes quiet while busy, or idles between keep-alive requests.
 */
import { describe, expect, it } from 'vitest'
import { ConnectionTimeouts, keepAliveMs, type ConnectionActivity, type TimeoutVerdict } from '../../../src/proxy/userspace/http-connection-timeouts.js'

const quietHead: ConnectionActivity = { isPartialHead: true, isBusy: false }
const busy: ConnectionActivity = { isPartialHead: false, isBusy: true }
const idle: ConnectionActivity = { isPartialHead: false, isBusy: false }

/** Ticks with nothing moving until the verdict is not 'none'; which tick (1-based) and what. */
function firstVerdict(t: ConnectionTimeouts, now: ConnectionActivity, maxTicks = 10_000): { tick: number; verdict: TimeoutVerdict } {
  for (let i = 1; i <= maxTicks; i++) {
    const verdict = t.tick(now)
    if (verdict !== 'none') return { tick: i, verdict }
  }
  return { tick: maxTicks, verdict: 'none' }
}

describe('forward proxy connection timeouts', () => {
  it.each<[string, { headerTimeoutMs: number; idleTimeoutMs: number }, number]>([
    ['half the shortest timeout', { headerTimeoutMs: 100, idleTimeoutMs: 1000 }, 50],
    ['at most a second', { headerTimeoutMs: 60_000, idleTimeoutMs: 300_000 }, 1000],
    ['at least a millisecond', { headerTimeoutMs: 1, idleTimeoutMs: 1 }, 1],
  ])('ticks every %s', (_name, limits, tickMs) => {
    expect(new ConnectionTimeouts(limits).tickMs).toBe(tickMs)
  })

  it.each<[string, ConnectionActivity, { tick: number; verdict: TimeoutVerdict }]>([
    // Tick 50 ms: the head timer counts from the first tick that sees the partial head.
    ['a partial head on an otherwise idle connection is answered 408 after the header timeout', quietHead, { tick: 2, verdict: 'request-timeout' }],
    ['a partial head while a response is under way closes without an answer', { isPartialHead: true, isBusy: true }, { tick: 2, verdict: 'destroy' }],
    // The first tick only clears the activity seen at the start.
    ['a busy connection on which nothing moves is closed after the idle timeout', busy, { tick: 21, verdict: 'destroy' }],
    ['an idle keep-alive connection is closed after node:http\'s keep-alive timeout', idle, { tick: keepAliveMs / 50 + 1, verdict: 'destroy' }],
  ])('%s', (_name, now, expected) => {
    expect(firstVerdict(new ConnectionTimeouts({ headerTimeoutMs: 100, idleTimeoutMs: 1000 }), now)).toEqual(expected)
  })

  it('activity keeps a busy connection open, and a head that arrived restarts the header timeout', () => {
    const t = new ConnectionTimeouts({ headerTimeoutMs: 100, idleTimeoutMs: 1000 })
    for (let i = 0; i < 100; i++) {
      t.sawActivity()
      expect(t.tick(busy)).toBe('none')
    }
    expect(t.tick(quietHead)).toBe('none')
    // A head ended and the next one started between two ticks: its timer starts from zero.
    t.sawHead()
    expect(t.tick(quietHead)).toBe('none')
    expect(t.tick(quietHead)).toBe('request-timeout')
  })
})
