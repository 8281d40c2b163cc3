/**
 * The read-only REST client: against kpe's API server (protobuf lists and watch frames), and
 * against a scripted server for what a real one may send (JSON streams cut mid-line, frames cut
 * mid-length, ERROR events, a frame too large to be an object, Status answers).
 */
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeWatchFrame } from '../../../src/api/index.js'
import { ApiStatusError, RestClient, type WatchEvent } from '../../../src/client/index.js'
import { apiServerPerTest, callJson } from '../../helpers/api-server.js'

const access = (server: string) => ({ server, context: 'test', insecureSkipTlsVerify: false })

function nextEvents(client: RestClient, path: string, rv: string, n: number): Promise<WatchEvent<Record<string, unknown>>[]> {
  return new Promise((resolve, reject) => {
    const got: WatchEvent<Record<string, unknown>>[] = []
    const w = client.watch(path, rv, {
      event: (e) => {
        got.push(e)
        if (got.length === n) { w.stop(); resolve(got) }
      },
      error: reject,
    })
  })
}

describe('RestClient against kpe\'s API server', () => {
  const api = apiServerPerTest()

  it('lists and watches Services in protobuf', async () => {
    const url = await api.start()
    const client = new RestClient(access(url))
    const list = await client.source('/api/v1/namespaces/default/services').list()
    const events = nextEvents(client, '/api/v1/namespaces/default/services', list.resourceVersion, 2)
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.9', ports: [{ port: 80, protocol: 'TCP' }] } }
    expect((await callJson(`${url}/api/v1/namespaces/default/services`, 'POST', svc)).status).toBe(201)
    expect((await callJson(`${url}/api/v1/namespaces/default/services/web`, 'DELETE')).status).toBe(200)
    const [added, deleted] = await events
    expect(added).toMatchObject({ type: 'ADDED', object: { kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: '10.96.0.9', ports: [{ port: 80 }] } } })
    expect(deleted).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'web' } } })
  })

  it('keeps the server\'s Status code and reason', async () => {
    const client = new RestClient(access(await api.start()))
    await expect(client.get('/api/v1/namespaces/default/services/nope')).rejects.toMatchObject({ code: 404, reason: 'NotFound' })
  })
})

describe('RestClient against a scripted server', () => {
  let server: Server | undefined
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())))

  async function serve(answer: (res: ServerResponse) => void): Promise<RestClient> {
    server = createServer((_req, res) => answer(res))
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
    return new RestClient(access(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  }

  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' } })

  it('reads JSON watch lines cut across chunks', async () => {
    const client = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      const text = `${JSON.stringify({ type: 'ADDED', object: pod('a') })}\n${JSON.stringify({ type: 'MODIFIED', object: pod('b') })}\n`
      res.write(text.slice(0, 17))
      setTimeout(() => res.write(text.slice(17)), 10)
    })
    const evs = await nextEvents(client, '/api/v1/pods', '1', 2)
    expect(evs.map((e) => [e.type, (e.object['metadata'] as { name: string }).name])).toEqual([['ADDED', 'a'], ['MODIFIED', 'b']])
  })

  it('reads protobuf frames cut inside the length and the body', async () => {
    const client = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.kubernetes.protobuf;stream=watch' })
      const bytes = Buffer.concat([encodeWatchFrame('ADDED', pod('a'))!, encodeWatchFrame('DELETED', pod('b'))!])
      res.write(bytes.subarray(0, 2))
      setTimeout(() => res.write(bytes.subarray(2, 30)), 10)
      setTimeout(() => res.write(bytes.subarray(30)), 20)
    })
    const evs = await nextEvents(client, '/api/v1/pods', '1', 2)
    expect(evs.map((e) => [e.type, (e.object['metadata'] as { name: string }).name])).toEqual([['ADDED', 'a'], ['DELETED', 'b']])
  })

  it('an ERROR event (410 Expired) ends the watch with its code, so a ListWatcher relists', async () => {
    const client = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' } })}\n`)
    })
    const err = await nextEvents(client, '/api/v1/pods', '1', 1).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiStatusError)
    expect(err).toMatchObject({ code: 410, reason: 'Expired' })
  })

  it('a frame longer than any object is a broken stream, not an allocation', async () => {
    const client = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.kubernetes.protobuf;stream=watch' })
      res.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]))
    })
    await expect(nextEvents(client, '/api/v1/pods', '1', 1)).rejects.toThrow(/stream not understood: frame of 4294967295 bytes/)
  })

  it('a 403 names the request and keeps the code', async () => {
    const client = await serve((res) => {
      res.writeHead(403, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'services is forbidden: User "x" cannot list resource "services"' }))
    })
    await expect(client.get('/api/v1/services')).rejects.toMatchObject({ code: 403, message: expect.stringContaining('GET /api/v1/services: services is forbidden') })
  })
})
