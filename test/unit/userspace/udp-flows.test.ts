import { describe, expect, it } from 'vitest'
import { UdpFlowTable } from '../../../src/proxy/userspace/index.js'

function clock() {
  let now = 0
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

describe('UDP flow table', () => {
  it('reuses a flow while traffic flows and expires it after the idle timeout', () => {
    const c = clock()
    const t = new UdpFlowTable<string>({ idleTimeoutMs: 30_000, maxFlows: 10, clock: c })
    const key = UdpFlowTable.key('127.0.0.1', 5000, '10.96.0.105', 8081)
    t.add(key, 'flow-1')
    c.advance(20_000)
    expect(t.get(key)).toBe('flow-1')
    c.advance(20_000)
    expect(t.get(key)).toBe('flow-1')
    c.advance(30_000)
    expect(t.get(key)).toBeUndefined()
    expect(t.sweep()).toEqual(['flow-1'])
    expect(t.size).toBe(0)
  })

  it('a reply keeps the flow alive', () => {
    const c = clock()
    const t = new UdpFlowTable<string>({ idleTimeoutMs: 1000, maxFlows: 10, clock: c })
    t.add('k', 'f')
    c.advance(900)
    t.touch('k')
    c.advance(900)
    expect(t.sweep()).toEqual([])
  })

  it('separate client ports are separate flows, and a full table refuses new ones', () => {
    const c = clock()
    const t = new UdpFlowTable<string>({ idleTimeoutMs: 1000, maxFlows: 2, clock: c })
    expect(t.add(UdpFlowTable.key('127.0.0.1', 1, '10.96.0.105', 8081), 'a')).toBe(true)
    expect(t.add(UdpFlowTable.key('127.0.0.1', 2, '10.96.0.105', 8081), 'b')).toBe(true)
    expect(t.add(UdpFlowTable.key('127.0.0.1', 3, '10.96.0.105', 8081), 'c')).toBe(false)
  })
})
