import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chainName, type ChainName } from '../../../src/net/index.js'
import { staleChainDelayMs, stepStaleChains } from '../../../src/proxy/nftables/index.js'

const svc = chainName('service-MHHHYRWA-ns2/svc2/tcp/p8080')
const ep = chainName('endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080')
const fixed = chainName('services')

describe('stale chains (upstream: flushed, deleted by the first sync starting over 1 s later)', () => {
  it('flushes held service chains no rule uses, never fixed chains', () => {
    const s = stepStaleChains({ held: [svc, ep, fixed], active: new Set([fixed]), stale: new Map(), now: 5000 })
    expect(s).toEqual({ deleted: [], flushed: [svc, ep], stale: new Map([[svc, 5000], [ep, 5000]]) })
  })

  it('keeps a stale chain for exactly 1 s, deletes it after', () => {
    const stale = new Map([[svc, 1000]])
    expect(stepStaleChains({ held: [svc], active: new Set(), stale, now: 1000 + staleChainDelayMs }).deleted).toEqual([])
    expect(stepStaleChains({ held: [svc], active: new Set(), stale, now: 1001 + staleChainDelayMs })).toEqual({ deleted: [svc], flushed: [], stale: new Map() })
  })

  it('re-stamps a stale chain each sync that still finds it unused, as upstream does', () => {
    const s = stepStaleChains({ held: [svc], active: new Set(), stale: new Map([[svc, 1000]]), now: 1500 })
    expect(s.stale.get(svc)).toBe(1500)
  })

  it('forgets a stale chain a Service uses again', () => {
    expect(stepStaleChains({ held: [svc], active: new Set([svc]), stale: new Map([[svc, 1000]]), now: 1500 }).stale.size).toBe(0)
  })

  it('deletes only what aged past the delay and never flushes a chain in use (property)', () => {
    const names = fc.constantFrom(svc, ep, chainName('endpoint-X-ns/a/tcp/p__10.0.0.1/80'), chainName('local-Y-ns/b/tcp/p'))
    fc.assert(fc.property(fc.uniqueArray(names), fc.uniqueArray(names), fc.array(fc.tuple(names, fc.nat(10_000))), fc.nat(20_000), (held, active, hist, now) => {
      const stale = new Map<ChainName, number>(hist)
      const s = stepStaleChains({ held, active: new Set(active), stale, now })
      for (const c of s.deleted) expect(now - stale.get(c)!).toBeGreaterThan(staleChainDelayMs)
      for (const c of s.flushed) expect(active).not.toContain(c)
      for (const c of s.deleted) expect(s.stale.has(c)).toBe(false)
      for (const [, since] of s.stale) expect(since).toBe(now)
    }), { seed: 15, numRuns: 300 })
  })
})
