/**
 * The nft interpreter's set and map lookup (SetIndex: a trie of exact keys, intervals by sorted
 * breakpoints) answers what a plain scan of the elements answers, for random concatenated sets of
 * addresses, CIDRs, ranges, ports and protocols, overlapping and repeated. The scan below reads
 * each element's text on its own terms (masks, bounds, protocol numbers), not through the
 * interpreter's compiled parts. Seeded and bounded.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parsePacketAddress } from '../../src/proxy/netfilter/interpreter/address.js'
import { SetIndex } from '../../src/proxy/netfilter/nft/interpreter/set-index.js'
import { addrVal, compilePart, nameVal, numVal, type PartTest, type Val } from '../../src/proxy/netfilter/nft/interpreter/values.js'

type PartType = 'ipv4_addr' | 'inet_service' | 'inet_proto'

/** A probe value as the scan reads it. */
type Probe = { readonly kind: 'v4'; readonly v: number } | { readonly kind: 'v6'; readonly v: bigint } | { readonly kind: 'num'; readonly v: number } | { readonly kind: 'name'; readonly v: string }

const v4 = (a: number, b: number): string => `10.0.${a}.${b}`
const v4Num = (text: string): number => text.split('.').reduce((n, o) => n * 256 + Number(o), 0)
const v6Big = (x: number): bigint => (0xfd00n << 112n) + BigInt(x)

const addrText = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.nat(3), fc.nat(15)).map(([a, b]) => v4(a, b)) },
  { weight: 3, arbitrary: fc.tuple(fc.nat(3), fc.nat(15), fc.integer({ min: 20, max: 32 })).map(([a, b, p]) => `${v4(a, b)}/${p}`) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(3), fc.nat(15), fc.nat(3), fc.nat(15)).map(([a, b, c, d]) => `${v4(a, b)}-${v4(c, d)}`) },
  { weight: 1, arbitrary: fc.constantFrom('10.0.0.0/255.255.252.1', '10.0.1.0/255.255.255.255') },
  { weight: 1, arbitrary: fc.nat(40).map((x) => `fd00::${x.toString(16)}`) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(40), fc.integer({ min: 122, max: 128 })).map(([x, p]) => `fd00::${x.toString(16)}/${p}`) },
)
const portText = fc.oneof({ weight: 3, arbitrary: fc.nat(20).map(String) }, { weight: 2, arbitrary: fc.tuple(fc.nat(20), fc.nat(20)).map(([a, b]) => `${a}-${b}`) })
const protoText = fc.constantFrom('tcp', 'udp', 'sctp', '6', '17')
const textOf: Record<PartType, fc.Arbitrary<string>> = { ipv4_addr: addrText, inet_service: portText, inet_proto: protoText }

const probeOf: Record<PartType, fc.Arbitrary<Probe>> = {
  ipv4_addr: fc.oneof(
    { weight: 5, arbitrary: fc.tuple(fc.nat(3), fc.nat(15)).map(([a, b]): Probe => ({ kind: 'v4', v: v4Num(v4(a, b)) })) },
    { weight: 1, arbitrary: fc.nat(40).map((x): Probe => ({ kind: 'v6', v: v6Big(x) })) },
  ),
  inet_service: fc.nat(21).map((v): Probe => ({ kind: 'num', v })),
  inet_proto: fc.constantFrom('tcp', 'udp', 'sctp').map((v): Probe => ({ kind: 'name', v })),
}

const protoNames: Record<string, string> = { '6': 'tcp', '17': 'udp' }

/** Whether one element part, as written, matches a probe; and whether it is a single value (exact). */
function scanPart(text: string, p: Probe): { matches: boolean; exact: boolean } {
  if (p.kind === 'name') return { matches: (protoNames[text] ?? text) === p.v, exact: true }
  if (p.kind === 'num') {
    const [lo, hi] = text.includes('-') ? text.split('-').map(Number) : [Number(text), Number(text)]
    return { matches: p.v >= lo! && p.v <= hi!, exact: !text.includes('-') }
  }
  if (text.startsWith('fd00::')) {
    const [addr, prefix] = text.split('/')
    const bits = BigInt(128 - Number(prefix ?? 128))
    const net = v6Big(Number.parseInt(addr!.slice('fd00::'.length), 16))
    return { matches: p.kind === 'v6' && p.v >> bits === net >> bits, exact: bits === 0n }
  }
  if (text.includes('-')) {
    const [lo, hi] = text.split('-').map(v4Num)
    return { matches: p.kind === 'v4' && p.v >= lo! && p.v <= hi!, exact: false }
  }
  const [addr, m] = text.split('/')
  const mask = m === undefined ? 0xffffffff : m.includes('.') ? v4Num(m) : Number(m) === 0 ? 0 : (0xffffffff << (32 - Number(m))) >>> 0
  return { matches: p.kind === 'v4' && ((p.v & mask) >>> 0) === ((v4Num(addr!) & mask) >>> 0), exact: mask === 0xffffffff }
}

/** The plain scan: the last all-exact element that matches, else the first other one that does. */
function scan(elements: readonly (readonly string[])[], probe: readonly Probe[]): number | undefined {
  let exactHit: number | undefined
  let intervalHit: number | undefined
  elements.forEach((texts, i) => {
    const parts = texts.map((t, k) => scanPart(t, probe[k]!))
    if (!parts.every((p) => p.matches)) return
    if (parts.every((p) => p.exact)) exactHit = i
    else intervalHit ??= i
  })
  return exactHit ?? intervalHit
}

function valOf(p: Probe): Val {
  if (p.kind === 'num') return numVal(p.v)
  if (p.kind === 'name') return nameVal(p.v)
  const text = p.kind === 'v4' ? `${p.v >>> 24}.${(p.v >>> 16) & 255}.${(p.v >>> 8) & 255}.${p.v & 255}` : `fd00::${(p.v & 0xffffn).toString(16)}`
  return addrVal(parsePacketAddress(text)!)
}

interface Element {
  readonly parts: readonly PartTest[]
  readonly i: number
}

const setCase = fc
  .array(fc.constantFrom<PartType>('ipv4_addr', 'inet_service', 'inet_proto'), { minLength: 1, maxLength: 3 })
  .chain((types) =>
    fc.record({
      types: fc.constant(types),
      elements: fc.array(fc.tuple(...types.map((t) => textOf[t])), { minLength: 0, maxLength: 40 }),
      probes: fc.array(fc.tuple(...types.map((t) => probeOf[t])), { minLength: 1, maxLength: 30 }),
    }),
  )

describe('nft interpreter: a set lookup equals a plain scan of its elements', () => {
  it('random concatenated sets with intervals, overlaps and repeats (seed 2026, 400 runs)', () => {
    fc.assert(
      fc.property(setCase, ({ types, elements, probes }) => {
        const index = new SetIndex<Element>(types.length)
        elements.forEach((texts, i) => index.add({ i, parts: texts.map((t, k) => compilePart(types[k]!, t)!) }))
        for (const probe of probes) {
          const got = index.lookup(probe.map(valOf))?.i
          expect(got, `${types.join(' . ')} { ${elements.map((e) => e.join(' . ')).join(', ')} } looked up with ${JSON.stringify(probe, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}`).toBe(scan(elements, probe))
        }
      }),
      { seed: 2026, numRuns: 400 },
    )
  })

  it('a key of the wrong width finds nothing', () => {
    const index = new SetIndex<Element>(2)
    index.add({ i: 0, parts: [compilePart('ipv4_addr', '10.0.0.0/8')!, compilePart('inet_service', '80')!] })
    expect(index.lookup([addrVal(parsePacketAddress('10.1.2.3')!)])).toBeUndefined()
    expect(index.lookup([addrVal(parsePacketAddress('10.1.2.3')!), numVal(80)])?.i).toBe(0)
  })
})

describe('nft interpreter: interval lookups do not scan the set', () => {
  it('20,000 lookups in a set of 60,000 CIDRs and ranges each read the key parts of at most two elements (a scan reads up to 60,000)', () => {
    const index = new SetIndex<Element>(2)
    // Each element counts the reads of its key parts: a lookup that scans reads thousands.
    let reads = 0
    const counted = (i: number, parts: readonly PartTest[]): Element => ({ i, get parts() { reads++; return parts } })
    // Disjoint /30s and two-address ranges, each with a port range: 60,000 interval elements.
    for (let i = 0; i < 60_000; i++) {
      const base = 0x0a000000 + i * 4
      const a = `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}`
      const b = `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${(base & 255) + 1}`
      index.add(counted(i, [compilePart('ipv4_addr', i % 2 === 0 ? `${a}/30` : `${a}-${b}`)!, compilePart('inet_service', '1000-2000')!]))
    }
    const probes = Array.from({ length: 20_000 }, (_, k) => {
      const i = 59_999 - (k % 1000)
      const addr = 0x0a000000 + i * 4 + 1
      return { i, vals: [addrVal(parsePacketAddress(`${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`)!), numVal(1500)] }
    })
    index.lookup(probes[0]!.vals) // builds the index once, as the first packet after a sync does
    reads = 0
    for (const p of probes) expect(index.lookup(p.vals)?.i).toBe(p.i)
    expect(reads).toBeLessThanOrEqual(2 * probes.length)
  })
})
