import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chainHash, cidrContains, joinHostPort, parseCidr, parseCidrSloppy, parseIP, parseIPSloppy } from '../../../src/net/index.js'

describe('chain-name hash (sha256, base32, 16 characters)', () => {
  it.each([
    ['ns1/svc1:p80tcp', 'XPGD46QRK7WJZT7O'],
    ['ns1/svc1:p80tcp10.180.0.1:80', 'SXIVWICOYRO3J4NJ'],
    ['kube-system/kube-dns:dnsudp', 'TCOU7JCQXEZGVUNU'],
    ['default/kubernetes:httpstcp', 'NPX46M4PTMTKRN6Y'],
  ])('hash(%s) = %s', (text, hash) => {
    expect(chainHash(text)).toBe(hash)
  })

  it('equals base32 of the first 10 digest bytes for any text', () => {
    // Reference: RFC 4648 base32 bit by bit over createHash's digest.
    const reference = (text: string): string => {
      const d = createHash('sha256').update(text).digest()
      let bits = ''
      for (const b of d.subarray(0, 10)) bits += b.toString(2).padStart(8, '0')
      let out = ''
      for (let i = 0; i < 80; i += 5) out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[Number.parseInt(bits.slice(i, i + 5), 2)]
      return out
    }
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (text) => {
      expect(chainHash(text)).toBe(reference(text))
    }), { numRuns: 500 })
  })

  it('with a prefix, is the prefix followed by the hash', () => {
    fc.assert(fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 }), (prefix, text) => {
      expect(chainHash(text, prefix)).toBe(prefix + chainHash(text))
    }), { numRuns: 200 })
  })
})

describe('addresses', () => {
  it('the canonical-IPv4 fast path of parseIPSloppy agrees with the general parse', () => {
    const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.stringMatching(/^[0-9]{1,4}$/))
    const text = fc.oneof(fc.array(part, { minLength: 3, maxLength: 5 }).map((p) => p.join('.')), fc.string({ maxLength: 16 }))
    // Reference: Go's ParseIPSloppy for IPv4, decimal parts with leading zeros, each at most 255.
    const reference = (t: string): string | undefined => {
      const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t)
      if (!m) return undefined
      const parts = m.slice(1).map((x) => Number.parseInt(x, 10))
      return parts.some((x) => x > 255) ? undefined : parts.join('.')
    }
    fc.assert(fc.property(text, (t) => {
      if (!t.includes(':')) expect(parseIPSloppy(t)).toBe(reference(t))
    }), { numRuns: 2000 })
  })

  it('reads legacy IPv4 with leading zeros as decimal, as kube-proxy does', () => {
    expect(parseIPSloppy('172.30.0.041')).toBe('172.30.0.41')
    expect(parseIP('172.30.0.041')).toBeUndefined()
    expect(parseCidrSloppy('203.0.113.000/025')?.cidr).toBe('203.0.113.0/25')
  })
  it('prints IPv6 in RFC 5952 form and CIDRs as network/prefix', () => {
    expect(parseIP('FD00:0010:0000::0001')).toBe('fd00:10::1')
    expect(parseCidr('203.0.113.77/25')?.cidr).toBe('203.0.113.0/25')
    expect(parseCidr('fd00:10:244:1::5/56')?.cidr).toBe('fd00:10:244::/56')
  })
  it('rejects what is not an address', () => {
    for (const bad of ['', '1.2.3', '1.2.3.256', '::g', 'fe80::1%eth0', '10.0.0.0/33']) expect(parseIP(bad) ?? parseCidr(bad)).toBeUndefined()
  })
  it('tests containment within a family only', () => {
    const c = parseCidr('10.0.0.0/8')!
    expect(cidrContains(c, parseIP('10.180.0.1')!)).toBe(true)
    expect(cidrContains(c, parseIP('11.0.0.1')!)).toBe(false)
    expect(cidrContains(c, parseIP('::a00:1')!)).toBe(false)
  })
  it('joins host and port with brackets for IPv6', () => {
    expect(joinHostPort(parseIP('fd00::1')!, 80)).toBe('[fd00::1]:80')
  })
})
