/**
 * The ApiServer's proxy subresources with an injected backend that dials a test HTTP server on
 * loopback port 0: method, path, query, headers and body go through; hop-by-hop headers and
 * credentials do not; the response streams back. Without a backend: 503.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiServer, type ProxyTarget, type ServiceProxyBackend } from '../../../src/apiserver/index.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
let upstream: Server | undefined
afterEach(async () => {
  await server?.close()
  await store?.close()
  await new Promise((resolve) => (upstream ? upstream.close(resolve) : resolve(undefined)))
  server = store = upstream = undefined
})

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }

async function start(backend: ServiceProxyBackend | undefined): Promise<string> {
  store = await openMemoryStore()
  await store.create('pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
    spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] }, status: { phase: 'Running', podIP: '10.244.0.7' },
  } as never)
  server = await ApiServer.start({ store, port: 0, ...(backend ? { serviceProxy: backend } : {}) })
  return server.url
}

function echoUpstream(seen: Seen[]): Promise<number> {
  upstream = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (d: string) => { body += d })
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      res.writeHead(201, { 'x-from': 'pod', 'keep-alive': 'timeout=9' })
      res.write('part1 ')
      setTimeout(() => res.end('part2'), 20)
    })
  })
  return new Promise((resolve) => upstream!.listen(0, '127.0.0.1', () => resolve((upstream!.address() as AddressInfo).port)))
}

function send(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('ApiServer proxy subresources', () => {
  it('relays method, path, query, end-to-end headers and body to the target the backend connects, and streams the reply', async () => {
    const seen: Seen[] = []
    const port = await echoUpstream(seen)
    const targets: ProxyTarget[] = []
    const base = await start({ connect: async (t) => { targets.push(t); return connect({ host: '127.0.0.1', port }) } })
    const res = await send(`${base}/api/v1/namespaces/default/pods/p:8080/proxy/a/b?x=1&y=2`, 'hello',
      { 'x-custom': 'v', authorization: 'Bearer secret', 'keep-alive': 'timeout=1', connection: 'keep-alive, x-hop', 'x-hop': 'h' })
    expect(res.status).toBe(201)
    expect(res.headers['x-from']).toBe('pod')
    expect(res.headers['keep-alive']).not.toBe('timeout=9')
    expect(res.body).toBe('part1 part2')
    expect(targets).toEqual([{ kind: 'pod', namespace: 'default', name: 'p', address: '10.244.0.7', port: 8080, scheme: 'http' }])
    const s = seen[0]!
    expect([s.method, s.url, s.body]).toEqual(['POST', '/a/b?x=1&y=2', 'hello'])
    expect(s.headers['x-custom']).toBe('v')
    expect(s.headers.host).toBe('10.244.0.7:8080')
    expect(s.headers.authorization).toBeUndefined()
    expect(s.headers['keep-alive']).toBeUndefined()
    expect(s.headers['x-hop']).toBeUndefined()
    expect(s.headers['x-forwarded-for']).toBe('127.0.0.1')
  })

  it('without a backend, and when the backend fails, answers 503 ServiceUnavailable', async () => {
    const base = await start(undefined)
    const none = await fetch(`${base}/api/v1/namespaces/default/pods/p/proxy/`)
    expect(none.status).toBe(503)
    expect(((await none.json()) as { reason: string }).reason).toBe('ServiceUnavailable')
    await server!.close()
    await store!.close()
    const base2 = await start({ connect: () => Promise.reject(new Error('dial tcp 10.244.0.7:8080: connection refused')) })
    const failed = await fetch(`${base2}/api/v1/namespaces/default/pods/p/proxy/`)
    expect(failed.status).toBe(503)
    expect(((await failed.json()) as { message: string }).message).toBe('error trying to reach pod: dial tcp 10.244.0.7:8080: connection refused')
  })
})
