/**
 * The DNS server over real sockets (UDP and TCP on loopback, port 0): answers, truncation with
 * TC and the TCP retry, and fuzzing: no packet, valid or not, ends the server or makes it throw.
 */
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import dnsPacket from 'dns-packet'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EndpointSlice, Service } from '../../../src/api/index.js'
import { buildDnsZone, DnsServer, respondToQuery } from '../../../src/dns/index.js'

const many = Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.244.${Math.floor(i / 200)}.${(i % 200) + 1}`], conditions: { ready: true } }))
const zone = buildDnsZone({
  services: [
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] } } as Service,
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 'big' }, spec: { clusterIP: 'None' } } as Service,
  ],
  endpointSlices: [{ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { namespace: 'default', name: 'big-1', labels: { 'kubernetes.io/service-name': 'big' } }, addressType: 'IPv4', endpoints: many } as EndpointSlice],
  pods: [],
  clusterDomain: 'cluster.local',
})

const query = (name: string, type: dnsPacket.RecordType, id = 7): Buffer => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] })

let server: DnsServer
let port: number

beforeAll(async () => {
  server = new DnsServer({ host: '127.0.0.1', zone: () => zone })
  port = (await server.listen(0)).port
})
afterAll(() => server.close())

function askUdp(packet: Buffer, timeoutMs = 2000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4')
    const t = setTimeout(() => { s.close(); resolve(undefined) }, timeoutMs)
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m) })
    s.send(packet, port, '127.0.0.1')
  })
}

function askTcp(packet: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    s.on('error', reject)
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { s.destroy(); resolve(buf.subarray(2, 2 + buf.readUInt16BE(0))) }
    })
    const prefix = Buffer.alloc(2)
    prefix.writeUInt16BE(packet.length)
    s.write(Buffer.concat([prefix, packet]))
  })
}

describe('the DNS server', () => {
  it('answers over UDP, authoritative, with the query id', async () => {
    const r = dnsPacket.decode((await askUdp(query('web.default.svc.cluster.local', 'A', 4242)))!)
    expect(r).toMatchObject({ id: 4242, type: 'response', flag_aa: true, flag_rd: true, rcode: 'NOERROR' })
    expect(r.answers).toMatchObject([{ name: 'web.default.svc.cluster.local', type: 'A', ttl: 30, data: '10.96.0.20' }])
  })

  it('answers NXDOMAIN with the SOA in authority', async () => {
    const r = dnsPacket.decode((await askUdp(query('nope.default.svc.cluster.local', 'A')))!)
    expect((r as { rcode?: string }).rcode).toBe('NXDOMAIN')
    expect(r.authorities).toMatchObject([{ type: 'SOA', name: 'cluster.local', data: { mname: 'ns.dns.cluster.local', minimum: 30 } }])
  })

  it('truncates a UDP answer over 512 bytes (TC set) and gives it whole over TCP', async () => {
    const udp = dnsPacket.decode((await askUdp(query('big.default.svc.cluster.local', 'A')))!)
    expect(udp.flag_tc).toBe(true)
    expect(udp.answers).toEqual([])
    const tcp = dnsPacket.decode(await askTcp(query('big.default.svc.cluster.local', 'A')))
    expect(tcp.flag_tc).toBe(false)
    expect(tcp.answers).toHaveLength(60)
  })

  it('gives EDNS clients up to their buffer size over UDP', async () => {
    const q = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'big.default.svc.cluster.local' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as dnsPacket.Answer] })
    const r = dnsPacket.decode((await askUdp(q))!)
    expect(r.flag_tc).toBe(false)
    expect(r.answers).toHaveLength(60)
  })

  it('answers FORMERR to an undecodable query with a readable header, and nothing to a response', () => {
    const garbage = Buffer.concat([query('web.default.svc.cluster.local', 'A', 99).subarray(0, 14)])
    expect(dnsPacket.decode(respondToQuery(garbage, zone, 'udp')!)).toMatchObject({ id: 99, rcode: 'FORMERR' })
    expect(respondToQuery(dnsPacket.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'x' }] }), zone, 'udp')).toBeUndefined()
    expect(respondToQuery(Buffer.from([1, 2, 3]), zone, 'udp')).toBeUndefined()
  })

  it('no packet makes it throw (fuzz, seeded)', () => {
    const names = fc.oneof(fc.constantFrom('web.default.svc.cluster.local', 'big.default.svc.cluster.local', '1-2-3-4.x.pod.cluster.local', '20.0.96.10.in-addr.arpa', 'cluster.local', '.', ''), fc.domain(), fc.string({ maxLength: 80 }))
    const types = fc.constantFrom<dnsPacket.RecordType>('A', 'AAAA', 'SRV', 'PTR', 'TXT', 'SOA', 'CNAME', 'MX', 'NS', 'OPT', 'ANY' as dnsPacket.RecordType)
    fc.assert(fc.property(fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
      fc.tuple(names, types, fc.nat(0xffff), fc.nat(0xffff)).map(([n, t, id, flags]) => {
        try { return dnsPacket.encode({ type: 'query', id, flags: flags & 0x7fff, questions: [{ name: n, type: t }] }) } catch { return Buffer.alloc(0) }
      }),
      fc.tuple(fc.nat(0xffff), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([at, bytes]) => {
        const b = Buffer.from(query('web.default.svc.cluster.local', 'A'))
        b.set(bytes.subarray(0, Math.max(0, b.length - (at % b.length))), at % b.length)
        return b
      }),
    ), fc.constantFrom<'udp' | 'tcp'>('udp', 'tcp'), (packet, transport) => {
      const reply = respondToQuery(packet, zone, transport)
      if (reply !== undefined) expect(() => dnsPacket.decode(reply)).not.toThrow()
    }), { seed: 14, numRuns: 3000 })
  })

  it('survives a stream of random packets on both transports and still answers', async () => {
    const rng = fc.sample(fc.uint8Array({ maxLength: 300 }), { seed: 3, numRuns: 200 })
    const u = createSocket('udp4')
    for (const b of rng) u.send(Buffer.from(b), port, '127.0.0.1')
    await new Promise((r) => setTimeout(r, 100))
    u.close()
    await new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        for (const b of rng.slice(0, 20)) s.write(Buffer.from(b))
        s.end()
      })
      s.on('error', () => resolve())
      s.on('close', () => resolve())
    })
    const r = dnsPacket.decode(await askTcp(query('web.default.svc.cluster.local', 'A')))
    expect(r.answers?.[0]).toMatchObject({ data: '10.96.0.20' })
  })
})
