/** RepeatingTask: runs at start, then an interval after each run ends; never overlapping; nothing after stop. */
import { describe, expect, it } from 'vitest'
import { RepeatingTask } from '../../../src/runtime/index.js'
import { FakeTimers, flush } from '../kubelet/fake-timers.js'

describe('RepeatingTask', () => {
  it('runs once at start (start resolves after it), then every interval after the run ends', async () => {
    const timers = new FakeTimers()
    const runs: number[] = []
    const task = new RepeatingTask(timers, 100, async () => { runs.push(timers.now) })
    await task.start()
    expect(runs).toEqual([0])
    await timers.advance(99)
    expect(runs).toEqual([0])
    await timers.advance(1)
    await timers.advance(250)
    expect(runs).toEqual([0, 100, 200, 300])
    task.stop()
    expect(timers.pending).toBe(0)
  })

  it('arms the next run only when a slow run ends, so runs never overlap', async () => {
    const timers = new FakeTimers()
    let running = 0
    let most = 0
    const gates: (() => void)[] = []
    const task = new RepeatingTask(timers, 10, async () => {
      most = Math.max(most, ++running)
      await new Promise<void>((r) => gates.push(r))
      running--
    })
    const started = task.start()
    await flush()
    expect(timers.pending).toBe(0)
    await timers.advance(1_000)
    expect(gates).toHaveLength(1)
    gates.shift()!()
    await started
    expect(timers.pending).toBe(1)
    await timers.advance(10)
    expect(gates).toHaveLength(1)
    expect(most).toBe(1)
    task.stop()
    gates.shift()!()
    await flush()
  })

  it('a stop during a run arms nothing after it, and stopped says so', async () => {
    const timers = new FakeTimers()
    let runs = 0
    const task = new RepeatingTask(timers, 10, async () => {
      runs++
      task.stop()
    })
    expect(task.stopped).toBe(true)
    await task.start()
    expect(task.stopped).toBe(true)
    await timers.advance(100)
    expect(runs).toBe(1)
    expect(timers.pending).toBe(0)
  })
})
