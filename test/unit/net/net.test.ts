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
})

describe('addresses', () => {
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
