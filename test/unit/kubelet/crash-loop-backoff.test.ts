/** The kubelet's restart back-off: immediate, then 10 s doubling to 5 min; reset after 10 min of running. */
import { describe, expect, it } from 'vitest'
import { backOffMessage, decideRestart, type BackOffEntry } from '../../../src/kubelet/index.js'

describe('crash-loop back-off', () => {
  it('restarts at once first, then waits 10 s, doubling up to 5 min', () => {
    let entry: BackOffEntry | undefined
    let now = 0
    const waits: number[] = []
    for (let i = 0; i < 9; i++) {
      const d = decideRestart(entry, now)
      waits.push(d.waitMs)
      entry = d.next
      now += d.waitMs + 1000 // restarted, crashed again a second later
    }
    expect(waits).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000])
  })

  it('starts over once the container ran longer than 10 min since its last restart', () => {
    const first = decideRestart(undefined, 0).next
    const second = decideRestart(first, 1000)
    expect(second.waitMs).toBe(10_000)
    expect(decideRestart(second.next, 11_000 + 600_001).waitMs).toBe(0)
    expect(decideRestart(second.next, 11_000 + 599_000).waitMs).toBe(20_000)
  })

  it('words the waiting message as upstream', () => {
    expect(backOffMessage(80_000, 'web', { namespace: 'default', name: 'web-1', uid: 'u-1' })).toBe('back-off 1m20s restarting failed container=web pod=web-1_default(u-1)')
  })
})
