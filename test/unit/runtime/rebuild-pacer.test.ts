/** Rebuilds after changes: at once while cheap, spaced in proportion to their cost while expensive, none after stop. */
import { describe, expect, it } from 'vitest'
import { RebuildPacer, type TimerHandle, type Timers } from '../../../src/runtime/index.js'

class ManualTimers implements Timers {
  now = 0
  readonly pending = new Map<number, { at: number; fn: () => void }>()
  #id = 0
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#id
    this.pending.set(id, { at: this.now + ms, fn })
    return { id }
  }
  clearTimeout(h: TimerHandle): void {
    this.pending.delete(h.id as number)
  }
  advance(ms: number): void {
    this.now += ms
    for (const [id, t] of [...this.pending]) if (t.at <= this.now) { this.pending.delete(id); t.fn() }
  }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('RebuildPacer', () => {
  it('runs a cheap rebuild in a microtask', async () => {
    const timers = new ManualTimers()
    const pacer = new RebuildPacer(timers, { now: () => timers.now })
    let runs = 0
    pacer.measure(() => undefined)
    pacer.schedule(() => runs++)
    await flush()
    expect(runs).toBe(1)
    expect(timers.pending.size).toBe(0)
  })

  it('waits nine times the last rebuild\'s duration after an expensive one (a tenth of the time rebuilding)', async () => {
    const timers = new ManualTimers()
    const pacer = new RebuildPacer(timers, { now: () => timers.now })
    pacer.measure(() => { timers.now += 40 })
    expect(pacer.delayMs).toBe(360)
    let runs = 0
    pacer.schedule(() => runs++)
    await flush()
    expect(runs).toBe(0)
    timers.advance(359)
    expect(runs).toBe(0)
    timers.advance(1)
    expect(runs).toBe(1)
  })

  it('runs nothing scheduled once stopped', async () => {
    const timers = new ManualTimers()
    const pacer = new RebuildPacer(timers, { now: () => timers.now })
    let runs = 0
    pacer.schedule(() => runs++)
    pacer.measure(() => { timers.now += 10 })
    pacer.schedule(() => runs++)
    pacer.stop()
    await flush()
    timers.advance(1_000)
    expect(runs).toBe(0)
  })
})
