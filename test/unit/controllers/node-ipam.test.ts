import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { allocatePodCidrs, checkPodCidrUpdate, cidrsOverlap, type ClusterCidr } from '../../../src/controllers/index.js'
import { parseCidr, type ParsedCidr } from '../../../src/net/index.js'

const v4: ClusterCidr = { cidr: parseCidr('10.244.0.0/16')!, nodeMaskSize: 24 }
const v6: ClusterCidr = { cidr: parseCidr('fd00:10:244::/56')!, nodeMaskSize: 64 }

function run(n: number, cidrs: readonly ClusterCidr[]): string[][] {
  const used: ParsedCidr[] = []
  const out: string[][] = []
  for (let i = 0; i < n; i++) {
    const r = allocatePodCidrs([], cidrs, used)
    if (r.kind !== 'ok') throw new Error(JSON.stringify(r))
    out.push([...r.podCIDRs])
    used.push(...r.podCIDRs.map((c) => parseCidr(c)!))
  }
  return out
}

describe('node IPAM', () => {
  it('hands out consecutive /24s of the cluster CIDR', () => {
    expect(run(3, [v4])).toEqual([['10.244.0.0/24'], ['10.244.1.0/24'], ['10.244.2.0/24']])
  })

  it('gives dual-stack nodes one CIDR per family', () => {
    expect(run(2, [v4, v6])).toEqual([['10.244.0.0/24', 'fd00:10:244::/64'], ['10.244.1.0/24', 'fd00:10:244:1::/64']])
  })

  it('keeps a node’s own podCIDR and refuses one that overlaps another node', () => {
    expect(allocatePodCidrs(['10.244.7.0/24'], [v4], [])).toEqual({ kind: 'ok', podCIDRs: ['10.244.7.0/24'] })
    expect(allocatePodCidrs(['10.244.0.0/23'], [v4], [parseCidr('10.244.1.0/24')!])).toMatchObject({ kind: 'invalid', causes: [{ field: 'spec.podCIDRs[0]' }] })
  })

  it('reports an exhausted cluster CIDR', () => {
    const tiny: ClusterCidr = { cidr: parseCidr('10.244.0.0/23')!, nodeMaskSize: 24 }
    expect(allocatePodCidrs([], [tiny], [parseCidr('10.244.0.0/24')!, parseCidr('10.244.1.0/24')!])).toEqual({ kind: 'full', family: 'IPv4' })
  })

  it('forbids changing podCIDRs once set', () => {
    expect(checkPodCidrUpdate(['10.244.1.0/24'], ['10.244.0.0/24'])).toMatchObject([{ field: 'spec.podCIDRs', message: 'Forbidden: node updates may not change podCIDR except from "" to valid' }])
    expect(checkPodCidrUpdate(['10.244.0.0/24'], [])).toEqual([])
  })

  it('gives every node a disjoint subnet inside the cluster CIDR, for any mask size (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 16, max: 24 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 30 }), (prefix, extra, n) => {
      const c: ClusterCidr = { cidr: parseCidr(`10.0.0.0/${prefix}`)!, nodeMaskSize: Math.min(32, prefix + extra) }
      const count = Math.min(n, 2 ** (c.nodeMaskSize - prefix))
      const got = run(count, [c]).map(([x]) => parseCidr(x!)!)
      for (const [i, a] of got.entries()) {
        expect(cidrsOverlap(a, c.cidr)).toBe(true)
        expect(a.prefix).toBe(c.nodeMaskSize)
        for (const b of got.slice(i + 1)) expect(cidrsOverlap(a, b)).toBe(false)
      }
    }))
  })
})

describe('node IPAM at scale', () => {
  it('finds the first gap among used subnets of any size', () => {
    const used = ['10.244.0.0/23', '10.244.3.0/24', '10.244.2.128/25'].map((c) => parseCidr(c)!)
    expect(allocatePodCidrs([], [v4], used)).toEqual({ kind: 'ok', podCIDRs: ['10.244.4.0/24'] })
    expect(allocatePodCidrs([], [v4], [parseCidr('10.244.1.0/24')!])).toEqual({ kind: 'ok', podCIDRs: ['10.244.0.0/24'] })
    expect(allocatePodCidrs([], [v4], [parseCidr('10.0.0.0/8')!])).toEqual({ kind: 'full', family: 'IPv4' })
  })

  it('agrees with a subnet-by-subnet scan for random used sets (property)', () => {
    const c: ClusterCidr = { cidr: parseCidr('10.0.0.0/20')!, nodeMaskSize: 24 }
    const anyUsed = fc.array(fc.tuple(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 18, max: 28 })).map(([i, p]) => parseCidr(`10.0.${i}.0/${p}`) ?? parseCidr(`10.0.0.0/${p}`)!), { maxLength: 12 })
    fc.assert(fc.property(anyUsed, (used) => {
      let want: string | undefined
      for (let i = 0; i < 16 && want === undefined; i++) {
        const s = parseCidr(`10.0.${i}.0/24`)!
        if (!used.some((u) => cidrsOverlap(u, s))) want = s.cidr
      }
      const got = allocatePodCidrs([], [c], used)
      expect(got).toEqual(want === undefined ? { kind: 'full', family: 'IPv4' } : { kind: 'ok', podCIDRs: [want] })
    }), { seed: 17, numRuns: 300 })
  })

  it('registers 2,000 nodes in seconds, not minutes (the scan was cubic)', () => {
    const big: ClusterCidr = { cidr: parseCidr('10.240.0.0/12')!, nodeMaskSize: 24 }
    const t = Date.now()
    const got = run(2_000, [big])
    expect(got[1_999]).toEqual(['10.247.207.0/24'])
    expect(Date.now() - t).toBeLessThan(5_000)
  })
})
