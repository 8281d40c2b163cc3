/** Rebuilds after changes: at once while cheap, spaced in proportion to their cost while expensive, none after stop. */
import { describe, expect, it } from 'vitest'
import { RebuildPacer } from '../../../src/runtime/index.js'
import { FakeTimers } from '../kubelet/fake-timers.js'

const flush = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('RebuildPacer', () => {
  it('runs a cheap rebuild in a microtask', async () => {
    const timers = new FakeTimers()
    const pacer = new RebuildPacer(timers, { now: () => timers.now })
    let runs = 0
    pacer.measure(() => undefined)
    pacer.schedule(() => runs++)
    await flush()
    expect(runs).toBe(1)
    // under 10 ms is cheap: no wait, so a change is visible before the next request
    pacer.measure(() => { timers.now += 9 })
    expect(pacer.delayMs).toBe(0)
    pacer.schedule(() => runs++)
    await flush()
    expect(runs).toBe(2)
    expect(timers.pending).toBe(0)
  })

  it('waits nine times the last rebuild\'s duration after an expensive one (a tenth of the time rebuilding)', async () => {
    const timers = new FakeTimers()
    const pacer = new RebuildPacer(timers, { now: () => timers.now })
    pacer.measure(() => { timers.now += 40 })
    expect(pacer.delayMs).toBe(360)
    let runs = 0
    pacer.schedule(() => runs++)
    await flush()
    expect(runs).toBe(0)
    await timers.advance(359)
    expect(runs).toBe(0)
    await timers.advance(1)
    expect(runs).toBe(1)
  })

  it('runs nothing scheduled once stopped', async () => {
    const timers = new FakeTimers()
    const pacer = new RebuildPacer(timers, { now: () => timers.now })
    let runs = 0
    pacer.schedule(() => runs++)
    pacer.measure(() => { timers.now += 10 })
    pacer.schedule(() => runs++)
    pacer.stop()
    await flush()
    await timers.advance(1_000)
    expect(runs).toBe(0)
  })
})
