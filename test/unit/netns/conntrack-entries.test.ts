/**
 * Conntrack entries from both of the kernel's printed forms (`conntrack -L` and
 * /proc/net/nf_conntrack): generated entries printed either way parse back to the same value,
 * lookups match the original tuple in canonical address form, and noise never throws.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { findByOriginal, isDestinationNATed, parseConntrackLine, parseConntrackTable, type ConntrackEntry } from '../../../src/netns/conntrack-entries.js'

const seed = 1605
const port = fc.integer({ min: 0, max: 65535 })
const tuple = fc.record({ src: fc.ipV4(), dst: fc.ipV4(), sport: port, dport: port })
const entry: fc.Arbitrary<ConntrackEntry> = fc.record({
  proto: fc.constantFrom('tcp', 'udp'),
  original: tuple,
  reply: tuple,
  flags: fc.subarray(['ASSURED', 'UNREPLIED', 'OFFLOAD']),
}).chain((e) => (e.proto === 'tcp' ? fc.constantFrom('ESTABLISHED', 'TIME_WAIT', 'SYN_SENT').map((state) => ({ ...e, state })) : fc.constant(e)))

/** How the kernel prints an entry; UNREPLIED sits between the tuples, ASSURED after them. */
function print(e: ConntrackEntry, form: 'conntrack' | 'proc'): string {
  const t = (x: ConntrackEntry['original']): string => `src=${x.src} dst=${x.dst} sport=${x.sport} dport=${x.dport}`
  const num = e.proto === 'tcp' ? 6 : 17
  const head = `${form === 'proc' ? 'ipv4     2 ' : ''}${e.proto}      ${num} 117 ${e.state ?? ''}`
  const mid = e.flags.includes('UNREPLIED') ? ' [UNREPLIED]' : ''
  const tail = e.flags.filter((f) => f !== 'UNREPLIED').map((f) => ` [${f}]`).join('')
  return `${head} ${t(e.original)}${mid} ${t(e.reply)}${tail} mark=0 ${form === 'proc' ? 'zone=0 ' : ''}use=1`
}

function sortedFlags(e: ConntrackEntry): ConntrackEntry {
  return { ...e, flags: [...e.flags].sort() }
}

describe('conntrack entries', () => {
  it('parses the lines conntrack -L and /proc/net/nf_conntrack print', () => {
    const cli = 'tcp      6 119 TIME_WAIT src=192.168.77.1 dst=192.168.77.10 sport=60780 dport=30080 src=10.244.0.3 dst=10.244.0.1 sport=8080 dport=33180 [ASSURED] mark=0 use=1'
    const proc = 'ipv4     2 tcp      6 119 TIME_WAIT src=192.168.77.1 dst=192.168.77.10 sport=60780 dport=30080 src=10.244.0.3 dst=10.244.0.1 sport=8080 dport=33180 [ASSURED] mark=0 zone=0 use=2'
    const want = {
      proto: 'tcp', state: 'TIME_WAIT', flags: ['ASSURED'],
      original: { src: '192.168.77.1', dst: '192.168.77.10', sport: 60780, dport: 30080 },
      reply: { src: '10.244.0.3', dst: '10.244.0.1', sport: 8080, dport: 33180 },
    }
    expect(parseConntrackLine(cli)).toEqual(want)
    expect(parseConntrackLine(proc)).toEqual(want)
    // An event of conntrack -E: the reply tuple is set (DNAT chosen) before the SYN is answered.
    const ev = parseConntrackLine('    [NEW] tcp      6 120 SYN_SENT src=192.168.77.1 dst=192.168.77.10 sport=34046 dport=30080 [UNREPLIED] src=10.244.0.2 dst=10.244.0.1 sport=8080 dport=27694')
    expect(ev).toMatchObject({ state: 'SYN_SENT', flags: ['UNREPLIED'], reply: { src: '10.244.0.2', sport: 8080 } })
    expect(isDestinationNATed(parseConntrackLine(cli)!)).toBe(true)
    // IPv6 in /proc is printed in full; lookups compare the canonical form.
    const v6 = parseConntrackLine('ipv6     10 tcp      6 299 ESTABLISHED src=fd00:0000:0000:0000:0000:0000:0000:0001 dst=fd00:0000:0000:0000:0000:0000:0000:000a sport=1 dport=80 src=fd00::a dst=fd00::1 sport=80 dport=1 [ASSURED] mark=0 zone=0 use=2')!
    expect(v6.original.src).toBe('fd00::1')
    expect(findByOriginal([v6], 'tcp', { src: 'fd00:0:0:0:0:0:0:1', dst: 'fd00::a', sport: 1, dport: 80 })).toBe(v6)
    expect(isDestinationNATed(v6)).toBe(false)
  })

  it('round-trips generated entries in both printed forms', () => {
    fc.assert(fc.property(entry, fc.constantFrom<'conntrack' | 'proc'>('conntrack', 'proc'), (e, form) => {
      expect(sortedFlags(parseConntrackLine(print(e, form))!)).toEqual(sortedFlags(e))
    }), { seed, numRuns: 500 })
  })

  it('finds exactly the entry of an original tuple among many', () => {
    fc.assert(fc.property(fc.uniqueArray(entry, { minLength: 1, maxLength: 30, selector: (e) => `${e.proto} ${JSON.stringify(e.original)}` }), fc.nat(), (entries, i) => {
      const text = `conntrack v1.4.7 (conntrack-tools): ${entries.length} flow entries have been shown.\n${entries.map((e) => print(e, 'conntrack')).join('\n')}\n`
      const table = parseConntrackTable(text)
      expect(table).toHaveLength(entries.length)
      const want = entries[i % entries.length]!
      expect(findByOriginal(table, want.proto, want.original)?.reply).toEqual(want.reply)
    }), { seed, numRuns: 200 })
  })

  it('skips ICMP, headers and noise without throwing', () => {
    expect(parseConntrackLine('icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=1 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=1 mark=0 use=1')).toBeUndefined()
    expect(parseConntrackLine('tcp 6 10 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=99999 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1')).toBeUndefined()
    expect(parseConntrackLine('tcp 6 10 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1 dport=80')).toBeUndefined()
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
      parseConntrackTable(s)
      parseConntrackLine(`tcp 6 1 ${s}`)
    }), { seed, numRuns: 500 })
  })
})
