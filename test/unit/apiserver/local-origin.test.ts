/**
 * Issue 10 item 6: a web page must not be able to talk to the API server. Host must name the
 * server (DNS rebinding), and a request with a foreign Origin is refused with a 403 Status,
 * for plain requests and WebSocket upgrades alike.
 */
import { request } from 'node:http'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ApiServer } from '../../../src/apiserver/index.js'
import { checkLocalRequest, localAuthority } from '../../../src/apiserver/local-origin.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
afterEach(async () => {
  await server?.close()
  await store?.close()
  server = store = undefined
})

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, setHost: headers['host'] === undefined }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const cm = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' } })

describe('Host and Origin checks', () => {
  it('refuses a rebinding Host and a foreign Origin with 403 Forbidden, and writes nothing', async () => {
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0 })
    const port = server.port
    const path = '/api/v1/namespaces/default/configmaps'
    const json = { 'content-type': 'application/json' }
    const rebound = await send(port, 'POST', path, { ...json, host: `attacker.example:${port}` }, cm('a'))
    expect(rebound).toMatchObject({ status: 403, json: { kind: 'Status', reason: 'Forbidden', code: 403 } })
    expect(String(rebound.json['message'])).toContain('attacker.example')
    expect((await send(port, 'POST', path, { ...json, host: `127.0.0.1:${port + 1}` }, cm('b'))).status).toBe(403)
    const foreign = await send(port, 'POST', path, { ...json, origin: 'https://attacker.example' }, cm('c'))
    expect(foreign).toMatchObject({ status: 403, json: { reason: 'Forbidden' } })
    expect((await send(port, 'POST', path, { ...json, origin: 'null' }, cm('d'))).status).toBe(403)
    expect(store.list('configmaps').items).toEqual([])
    // The server's own names and origin are fine.
    expect((await send(port, 'POST', path, { ...json, host: `localhost:${port}`, origin: `http://localhost:${port}` }, cm('e'))).status).toBe(201)
    expect((await send(port, 'GET', path, { host: `[::1]:${port}` })).status).toBe(200)
    expect((await send(port, 'GET', path, {})).status).toBe(200)
  })

  it('refuses a WebSocket watch opened by a web page on another origin', async () => {
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0 })
    const url = `ws://127.0.0.1:${server.port}/api/v1/namespaces/default/configmaps?watch=true`
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { origin: 'https://attacker.example' })
      ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
      ws.on('open', () => { resolve(101); ws.close() })
      ws.on('error', () => {})
    })
    expect(status).toBe(403)
    const own = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { origin: `http://127.0.0.1:${server!.port}` })
      ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
      ws.on('open', () => { resolve(101); ws.close() })
      ws.on('error', () => {})
    })
    expect(own).toBe(101)
  })

  it('accepts exactly the loopback names and the bind host on the server port (property)', () => {
    const a = localAuthority('127.0.0.1', 6443)
    expect(checkLocalRequest({ host: '127.0.0.1:6443' }, a)).toBeUndefined()
    expect(checkLocalRequest({ host: 'LOCALHOST:6443' }, a)).toBeUndefined()
    expect(checkLocalRequest({ host: '[::1]:6443', origin: 'http://[::1]:6443' }, a)).toBeUndefined()
    expect(checkLocalRequest({ host: '127.0.0.1:6443', origin: 'https://127.0.0.1:6443' }, a)).toMatch(/Origin/)
    expect(checkLocalRequest({ host: '127.0.0.1' }, a)).toMatch(/DNS rebinding/)
    expect(checkLocalRequest({ host: '127.0.0.2:6443' }, localAuthority('127.0.0.2', 6443))).toBeUndefined()
    expect(checkLocalRequest({ host: '[::1]' }, localAuthority('::1', 443, 'https'))).toBeUndefined()
    fc.assert(fc.property(fc.oneof(fc.domain(), fc.ipV4(), fc.string()), fc.integer({ min: 0, max: 65535 }), (host, port) => {
      const ok = ['127.0.0.1', 'localhost'].includes(host.toLowerCase()) && port === 6443
      expect(checkLocalRequest({ host: `${host}:${port}` }, a) === undefined).toBe(ok)
      expect(checkLocalRequest({ origin: `http://${host}:${port}` }, a) === undefined).toBe(ok)
    }), { seed: 10, numRuns: 2000 })
  })
})
