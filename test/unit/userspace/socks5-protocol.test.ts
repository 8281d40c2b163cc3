import { describe, expect, it } from 'vitest'
import { encodeReply, encodeUdpDatagram, parseGreeting, parseRequest, parseUdpDatagram, parseUserPass } from '../../../src/proxy/userspace/index.js'

describe('SOCKS5 parsers', () => {
  it('waits for a whole greeting and keeps what follows', () => {
    expect(parseGreeting(Buffer.from([5, 2, 0]))).toEqual({ kind: 'more' })
    const r = parseGreeting(Buffer.from([5, 2, 0, 2, 9]))
    expect(r).toMatchObject({ kind: 'ok', value: { methods: [0, 2] } })
    expect(r.kind === 'ok' ? [...r.rest] : []).toEqual([9])
  })

  it('rejects SOCKS4', () => {
    expect(parseGreeting(Buffer.from([4, 1, 0])).kind).toBe('error')
  })

  it('reads user/password', () => {
    const b = Buffer.concat([Buffer.from([1, 18]), Buffer.from('pod.default.client'), Buffer.from([1]), Buffer.from('x')])
    expect(parseUserPass(b)).toMatchObject({ kind: 'ok', value: { user: 'pod.default.client', password: 'x' } })
  })

  it.each([
    ['IPv4', Buffer.from([5, 1, 0, 1, 10, 96, 0, 100, 0, 80]), { host: '10.96.0.100', port: 80, type: 'ipv4' }],
    ['a domain', Buffer.concat([Buffer.from([5, 1, 0, 3, 29]), Buffer.from('web.default.svc.cluster.local'), Buffer.from([0, 80])]), { host: 'web.default.svc.cluster.local', port: 80, type: 'domain' }],
    ['IPv6', Buffer.from([5, 1, 0, 4, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 187]), { host: 'fd00:0:0:0:0:0:0:1', port: 443, type: 'ipv6' }],
  ])('parses a CONNECT to %s', (_what, b, address) => {
    expect(parseRequest(b)).toMatchObject({ kind: 'ok', value: { command: 1, address } })
  })

  it('encodes replies and round-trips UDP datagrams', () => {
    expect([...encodeReply(5)]).toEqual([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])
    const dg = parseUdpDatagram(encodeUdpDatagram('10.96.0.105', 8081, Buffer.from('hostname')))
    expect(dg.kind === 'ok' ? [dg.address.host, dg.address.port, dg.data.toString()] : dg).toEqual(['10.96.0.105', 8081, 'hostname'])
  })

  it('refuses fragmented UDP datagrams', () => {
    expect(parseUdpDatagram(Buffer.from([0, 0, 1, 1, 1, 2, 3, 4, 0, 1])).kind).toBe('error')
  })
})
