/**
 * The Kubernetes DNS-based service discovery specification (kubernetes/dns docs/specification.md),
 * example by example: each row is a question and the records the specification says answer it,
 * against a zone built from objects shaped like the specification's examples.
 */
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Pod, Service } from '../../../src/api/index.js'
import { answerQuestion, buildDnsZone, lookupHost, podResolvConf, reverseName, searchCandidates, type DnsRecord } from '../../../src/dns/index.js'
import type { IPAddress } from '../../../src/net/index.js'

const svc = (ns: string, name: string, spec: Partial<Service['spec']>): Service =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { type: 'ClusterIP', ...spec } }) as Service

const slice = (ns: string, service: string, endpoints: EndpointSlice['endpoints'], ports: EndpointSlice['ports'] = [], addressType: EndpointSlice['addressType'] = 'IPv4'): EndpointSlice =>
  ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { namespace: ns, name: `${service}-x${addressType}`, labels: { 'kubernetes.io/service-name': service } }, addressType, endpoints, ports }) as EndpointSlice

const pod = (ns: string, name: string, ip: string, extra: Partial<Pod['spec']> = {}, ready = true): Pod =>
  ({
    apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name },
    spec: { containers: [], ...extra },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }) as Pod

const services: Service[] = [
  svc('default', 'kubernetes', { clusterIP: '10.3.0.1', clusterIPs: ['10.3.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
  svc('default', 'headless', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
  svc('default', 'foo', { type: 'ExternalName', externalName: 'www.example.com' }),
  svc('default', 'alias', { type: 'ExternalName', externalName: 'kubernetes.default.svc.cluster.local' }),
  svc('default', 'empty-headless', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
  svc('default', 'dual', { clusterIP: '10.3.0.7', clusterIPs: ['10.3.0.7', 'fd00:10:96::7'], ports: [{ port: 80 }] }),
  svc('default', 'web', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
]
const slices: EndpointSlice[] = [
  slice('default', 'headless', [
    { addresses: ['10.3.0.100'], hostname: 'my-pet', conditions: { ready: true } },
    { addresses: ['10.3.0.101'], hostname: 'my-pet-2', conditions: { ready: true } },
    { addresses: ['10.3.0.102'], conditions: { ready: true } },
    { addresses: ['10.3.0.103'], hostname: 'not-ready', conditions: { ready: false } },
  ], [{ name: 'https', port: 8443, protocol: 'TCP' }]),
]
const pods: Pod[] = [
  pod('default', 'web-0', '10.244.1.5', { hostname: 'web-0', subdomain: 'web' }),
  pod('default', 'web-1', '10.244.1.6', { hostname: 'web-1', subdomain: 'web' }, false),
  pod('default', 'lonely', '10.244.1.7', { hostname: 'lonely', subdomain: 'nothing' }),
  // scaled away: still Ready while its grace period runs, but terminating (its endpoint is not ready)
  { ...pod('default', 'web-2', '10.244.1.8', { hostname: 'web-2', subdomain: 'web' }), metadata: { namespace: 'default', name: 'web-2', deletionTimestamp: '2026-01-01T00:00:30Z' } } as Pod,
]
const zone = buildDnsZone({ services, endpointSlices: slices, pods, clusterDomain: 'cluster.local' })

const data = (rs: readonly DnsRecord[]): string[] => rs.map((r) => `${r.name} ${r.type} ${typeof r.data === 'string' ? r.data : JSON.stringify(r.data)}`).sort()

interface Row {
  readonly spec: string
  readonly name: string
  readonly type: string
  readonly rcode: 'NOERROR' | 'NXDOMAIN' | 'REFUSED'
  readonly answers: string[]
}

const srv = (port: number, target: string): string => JSON.stringify({ priority: 0, weight: 100, port, target })

const rows: Row[] = [
  { spec: '2.2 schema version', name: 'dns-version.cluster.local', type: 'TXT', rcode: 'NOERROR', answers: ['dns-version.cluster.local TXT ["1.0.1"]'] },
  { spec: '2.3.1 A for a ClusterIP Service', name: 'kubernetes.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['kubernetes.default.svc.cluster.local A 10.3.0.1'] },
  { spec: '2.3.1 case-insensitive', name: 'Kubernetes.DEFAULT.svc.Cluster.Local.', type: 'A', rcode: 'NOERROR', answers: ['Kubernetes.DEFAULT.svc.Cluster.Local. A 10.3.0.1'] },
  { spec: '2.3.2 SRV for a named port', name: '_https._tcp.kubernetes.default.svc.cluster.local', type: 'SRV', rcode: 'NOERROR', answers: [`_https._tcp.kubernetes.default.svc.cluster.local SRV ${srv(443, 'kubernetes.default.svc.cluster.local')}`] },
  { spec: '2.3.2 unnamed ports have no SRV', name: '_tcp.dual.default.svc.cluster.local', type: 'SRV', rcode: 'NXDOMAIN', answers: [] },
  { spec: '2.3.3 PTR for a ClusterIP', name: '1.0.3.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['1.0.3.10.in-addr.arpa PTR kubernetes.default.svc.cluster.local'] },
  {
    spec: '2.4.1 A for each ready endpoint of a headless Service', name: 'headless.default.svc.cluster.local', type: 'A', rcode: 'NOERROR',
    answers: ['headless.default.svc.cluster.local A 10.3.0.100', 'headless.default.svc.cluster.local A 10.3.0.101', 'headless.default.svc.cluster.local A 10.3.0.102'],
  },
  { spec: '2.4.1 no ready endpoints is NXDOMAIN', name: 'empty-headless.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { spec: '2.4.1 A for an endpoint hostname', name: 'my-pet.headless.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['my-pet.headless.default.svc.cluster.local A 10.3.0.100'] },
  { spec: '2.4.1 a not-ready endpoint has no record', name: 'not-ready.headless.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { spec: '2.1 a system-assigned hostname without one', name: '10-3-0-102.headless.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['10-3-0-102.headless.default.svc.cluster.local A 10.3.0.102'] },
  {
    spec: '2.4.2 SRV per ready endpoint and named port', name: '_https._tcp.headless.default.svc.cluster.local', type: 'SRV', rcode: 'NOERROR',
    answers: [
      `_https._tcp.headless.default.svc.cluster.local SRV ${srv(8443, '10-3-0-102.headless.default.svc.cluster.local')}`,
      `_https._tcp.headless.default.svc.cluster.local SRV ${srv(8443, 'my-pet-2.headless.default.svc.cluster.local')}`,
      `_https._tcp.headless.default.svc.cluster.local SRV ${srv(8443, 'my-pet.headless.default.svc.cluster.local')}`,
    ],
  },
  { spec: '2.4.3 PTR for a headless endpoint', name: '100.0.3.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['100.0.3.10.in-addr.arpa PTR my-pet.headless.default.svc.cluster.local'] },
  { spec: '2.5 ExternalName is a CNAME', name: 'foo.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['foo.default.svc.cluster.local CNAME www.example.com'] },
  {
    spec: '2.5 a CNAME into the zone is followed', name: 'alias.default.svc.cluster.local', type: 'A', rcode: 'NOERROR',
    answers: ['alias.default.svc.cluster.local CNAME kubernetes.default.svc.cluster.local', 'kubernetes.default.svc.cluster.local A 10.3.0.1'],
  },
  { spec: '2.6 pod A record', name: '1-2-3-4.default.pod.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['1-2-3-4.default.pod.cluster.local A 1.2.3.4'] },
  { spec: '2.6 a malformed pod name', name: '1-2-3.default.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { spec: 'AAAA of a dual-stack Service', name: 'dual.default.svc.cluster.local', type: 'AAAA', rcode: 'NOERROR', answers: ['dual.default.svc.cluster.local AAAA fd00:10:96::7'] },
  { spec: 'NODATA: the name exists, the type does not', name: 'kubernetes.default.svc.cluster.local', type: 'AAAA', rcode: 'NOERROR', answers: [] },
  { spec: 'NODATA for an empty non-terminal', name: 'default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: [] },
  { spec: 'NXDOMAIN for a missing Service', name: 'missing.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { spec: 'hostname.subdomain from the pod fields', name: 'web-0.web.default.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['web-0.web.default.svc.cluster.local A 10.244.1.5'] },
  { spec: 'a not-ready pod has no hostname record', name: 'web-1.web.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { spec: 'a terminating pod has no hostname record', name: 'web-2.web.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { spec: 'a subdomain without its headless Service has none', name: 'lonely.nothing.default.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', answers: [] },
  { spec: 'names outside the zone are refused (kpe forwards nothing)', name: 'example.com', type: 'A', rcode: 'REFUSED', answers: [] },
]

describe('cluster DNS follows the specification', () => {
  it.each(rows)('$spec: $name $type', (row) => {
    const a = answerQuestion(zone, { name: row.name, type: row.type })
    expect(a.rcode).toBe(row.rcode)
    expect(data(a.answers)).toEqual(row.answers.sort())
  })

  it('negative answers carry the zone SOA, whose minimum and TTL give the negative-caching time', () => {
    for (const name of ['missing.default.svc.cluster.local', 'kubernetes.default.svc.cluster.local']) {
      const a = answerQuestion(zone, { name, type: 'AAAA' })
      expect(a.authority).toHaveLength(1)
      const soa = a.authority[0]!
      expect(soa.type).toBe('SOA')
      expect(soa.name).toBe('cluster.local')
      expect(soa.type === 'SOA' && Math.min(soa.ttl, soa.data.minimum)).toBe(30)
    }
    expect(answerQuestion(zone, { name: '9.9.9.9.in-addr.arpa', type: 'PTR' })).toMatchObject({ rcode: 'NXDOMAIN', authority: [{ name: 'in-addr.arpa', type: 'SOA' }] })
  })

  it('SRV answers carry their targets\' addresses as additionals', () => {
    const a = answerQuestion(zone, { name: '_https._tcp.kubernetes.default.svc.cluster.local', type: 'SRV' })
    expect(data(a.additionals)).toEqual(['kubernetes.default.svc.cluster.local A 10.3.0.1'])
  })

  it('the cluster domain comes from the configuration', () => {
    const other = buildDnsZone({ services, endpointSlices: [], pods: [], clusterDomain: 'corp.internal' })
    expect(answerQuestion(other, { name: 'kubernetes.default.svc.corp.internal', type: 'A' }).rcode).toBe('NOERROR')
    expect(answerQuestion(other, { name: 'kubernetes.default.svc.cluster.local', type: 'A' }).rcode).toBe('REFUSED')
  })

  it('PTR names of IPv6 addresses are in nibble form', () => {
    expect(reverseName('fd00:10:96::7' as IPAddress)).toBe('7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa')
    expect(answerQuestion(zone, { name: reverseName('fd00:10:96::7' as IPAddress), type: 'PTR' }).answers.map((r) => r.data)).toEqual(['dual.default.svc.cluster.local'])
  })

  it('an object with unreadable fields is left out and named; the rest of the zone is built', () => {
    const bad = { ...svc('default', 'broken', { type: 'ExternalName' }) }
    const z = buildDnsZone({ services: [bad, ...services], endpointSlices: slices, pods, clusterDomain: 'cluster.local' })
    expect(z.skipped).toEqual([{ kind: 'Service', key: 'default/broken', error: 'spec.externalName: expected a DNS name' }])
    expect(answerQuestion(z, { name: 'kubernetes.default.svc.cluster.local', type: 'A' }).rcode).toBe('NOERROR')
  })
})

describe('a pod resolver\'s search list', () => {
  const conf = podResolvConf('default', 'cluster.local')

  it('is the one the kubelet writes, with ndots:5', () => {
    expect(conf).toEqual({ nameserver: '10.96.0.10', search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5 })
    expect(searchCandidates('web', conf)[0]).toBe('web.default.svc.cluster.local')
    expect(searchCandidates('a.b.c.d.e.f', conf)[0]).toBe('a.b.c.d.e.f')
    expect(searchCandidates('web.', conf)).toEqual(['web'])
  })

  it('finds short and namespaced names as a pod would', () => {
    expect(lookupHost(zone, 'kubernetes', conf)).toEqual({ name: 'kubernetes.default.svc.cluster.local', aliases: [], addresses: ['10.3.0.1'] })
    expect(lookupHost(zone, 'dual.default', conf)?.addresses).toEqual(['10.3.0.7', 'fd00:10:96::7'])
    expect(lookupHost(zone, 'alias', conf)).toMatchObject({ aliases: ['kubernetes.default.svc.cluster.local'], addresses: ['10.3.0.1'] })
    expect(lookupHost(zone, 'missing', conf)).toBeUndefined()
  })
})
