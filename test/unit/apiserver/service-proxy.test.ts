/** The proxy subresources' pure parts: path parsing, upstream's ResourceLocation choices, header filtering. */
import { describe, expect, it } from 'vitest'
import type { Pod, Service } from '../../../src/api/index.js'
import { endToEndHeaders, parseProxyPath, podProxyLocation, serviceProxyLocation, type EndpointsLike } from '../../../src/apiserver/index.js'

describe('parseProxyPath', () => {
  it.each([
    ['/api/v1/namespaces/default/services/web:http/proxy/hostname', { kind: 'service', namespace: 'default', name: 'web', scheme: '', port: 'http', rest: '/hostname' }],
    ['/api/v1/namespaces/default/services/https:web:443/proxy/', { kind: 'service', namespace: 'default', name: 'web', scheme: 'https', port: '443', rest: '/' }],
    ['/api/v1/namespaces/ns1/services/web/proxy', { kind: 'service', namespace: 'ns1', name: 'web', scheme: '', port: '', rest: undefined }],
    ['/api/v1/namespaces/default/pods/web-1:8080/proxy/a%2Fb/c', { kind: 'pod', namespace: 'default', name: 'web-1', scheme: '', port: '8080', rest: '/a%2Fb/c' }],
  ])('%s', (path, want) => {
    expect(parseProxyPath(path)).toEqual(want)
  })

  it('leaves other paths to the resource router and rejects malformed ids', () => {
    expect(parseProxyPath('/api/v1/namespaces/default/services/web')).toBeUndefined()
    expect(parseProxyPath('/api/v1/namespaces/default/services/web/status')).toBeUndefined()
    expect(parseProxyPath('/api/v1/namespaces/default/services/ftp:web:80/proxy/')).toEqual({ kind: 'invalid', reason: 'invalid service request "ftp:web:80"' })
  })
})

const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } as unknown as Service
const ep = (ips: string[]): EndpointsLike => ({
  subsets: [{ addresses: ips.map((ip, i) => ({ ip, targetRef: { kind: 'Pod', name: `web-${i}`, namespace: 'default' } })), ports: [{ name: 'http', port: 8080 }] }],
})
const req = (port: string) => ({ namespace: 'default', name: 'web', scheme: '' as const, port })
const always = (): boolean => true

describe('serviceProxyLocation (upstream service ResourceLocation)', () => {
  it('a port name or number picks the endpoint port; the pick chooses among ready pod addresses', () => {
    const byName = serviceProxyLocation(req('http'), svc, ep(['10.244.0.2', '10.244.1.2']), always, (n) => n - 1)
    expect(byName).toEqual({ kind: 'service', namespace: 'default', name: 'web', address: '10.244.1.2', port: 8080, scheme: 'http' })
    expect(serviceProxyLocation(req('80'), svc, ep(['10.244.0.2']), always, () => 0).address).toBe('10.244.0.2')
  })

  it('skips addresses whose pod is gone', () => {
    const t = serviceProxyLocation(req('http'), svc, ep(['10.244.0.2', '10.244.1.2']), (_ns, name) => name === 'web-1', () => 0)
    expect(t.address).toBe('10.244.1.2')
  })

  it.each([
    ['99', ep(['10.244.0.2']), 503, 'no service port 99 found for service "web"'],
    ['http', { subsets: [] }, 503, 'no endpoints available for service "web"'],
    ['', ep(['10.244.0.2']), 503, 'no endpoints available for service "web"'],
  ])('port %j fails as upstream does', (port, endpoints, code, message) => {
    expect(() => serviceProxyLocation(req(port), svc, endpoints, always, () => 0)).toThrow(expect.objectContaining({ code, message }))
  })

  it('a missing Service is NotFound', () => {
    expect(() => serviceProxyLocation(req('http'), undefined, undefined, always, () => 0)).toThrow(expect.objectContaining({ code: 404 }))
  })
})

describe('podProxyLocation', () => {
  const pod = {
    metadata: { name: 'web-1', namespace: 'default' },
    spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] }] },
    status: { phase: 'Running', podIP: '10.244.0.2' },
  } as unknown as Pod
  it.each([['', 8080], ['9090', 9090], ['metrics', 9090]])('port %j is %d', (port, want) => {
    expect(podProxyLocation({ ...req(port), name: 'web-1' }, pod).port).toBe(want)
  })
  it('a pod without an IP is unavailable', () => {
    expect(() => podProxyLocation({ ...req(''), name: 'web-1' }, { ...pod, status: { phase: 'Pending' } })).toThrow(expect.objectContaining({ code: 503 }))
  })
})

describe('endToEndHeaders', () => {
  it('drops hop-by-hop headers and those Connection names; keeps Upgrade only when asked', () => {
    const h = { connection: 'keep-alive, x-trace', 'keep-alive': 'timeout=5', 'x-trace': '1', 'transfer-encoding': 'chunked', upgrade: 'websocket', accept: '*/*' }
    expect(endToEndHeaders(h)).toEqual({ accept: '*/*' })
    expect(endToEndHeaders(h, { keepUpgrade: 'keep' })).toEqual({ connection: 'keep-alive, x-trace', upgrade: 'websocket', accept: '*/*' })
  })
})
