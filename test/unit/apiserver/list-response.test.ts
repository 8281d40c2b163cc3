import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../src/apiserver/index.js'
import { sendList } from '../../../src/apiserver/list-response.js'
import { openMemoryStore } from '../../../src/store/index.js'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) })))
})

const items = (n: number, bytes: number): object[] =>
  Array.from({ length: n }, (_, i) => ({ metadata: { name: `c${i}`, namespace: 'default' }, data: { v: 'x'.repeat(bytes) } }))
const head = { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '42' } }

/** Serves one list on 127.0.0.1:0, recording the size of every write the writer makes. */
async function serve(list: object[], chunkBytes: number): Promise<{ url: string; writes: number[]; finished: Promise<void> }> {
  const writes: number[] = []
  let finish: () => void = () => {}
  const finished = new Promise<void>((r) => { finish = r })
  const server = createServer((_req, res: ServerResponse) => {
    const write = res.write.bind(res) as (c: string) => boolean
    res.write = ((c: string) => { writes.push(c.length); return write(c) }) as typeof res.write
    const end = res.end.bind(res) as (c: string) => ServerResponse
    res.end = ((c: string) => { writes.push(c.length); return end(c) }) as typeof res.end
    void sendList(res, head, list, { chunkBytes }).then(finish)
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, writes, finished }
}

function fetchRaw(url: string, paused = false): Promise<{ res: IncomingMessage; body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      if (paused) res.pause()
      const body = new Promise<string>((r) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => { text += d })
        res.on('end', () => r(text))
      })
      if (paused) res.pause()
      resolve({ res, body })
    }).on('error', reject)
  })
}

describe('list response writer', () => {
  it('writes a large list in pieces no bigger than a chunk plus one item, and the body is the list', async () => {
    const list = items(2000, 500)
    const { url, writes } = await serve(list, 8192)
    const { res, body } = await fetchRaw(url)
    const parsed = JSON.parse(await body) as unknown
    expect(parsed).toEqual({ ...head, items: list })
    expect(res.headers['content-length']).toBeUndefined()
    const whole = JSON.stringify({ ...head, items: list }).length
    expect(writes.length).toBeGreaterThan(100)
    expect(Math.max(...writes)).toBeLessThan(8192 + 700)
    expect(writes.reduce((a, b) => a + b, 0)).toBe(whole)
  })

  it('sends a small list in one piece with a Content-Length, and an empty list too', async () => {
    for (const list of [items(3, 10), []]) {
      const { url, writes } = await serve(list, 8192)
      const { res, body } = await fetchRaw(url)
      const text = await body
      expect(JSON.parse(text)).toEqual({ ...head, items: list })
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(text)))
      expect(writes).toHaveLength(1)
    }
  })

  it('waits for a slow client instead of buffering the whole body', async () => {
    const list = items(20_000, 1000)
    const { url, writes, finished } = await serve(list, 64 * 1024)
    const { res, body } = await fetchRaw(url, true)
    let done = false
    void finished.then(() => { done = true })
    await new Promise((r) => setTimeout(r, 300))
    const whileStalled = writes.length
    expect(done).toBe(false)
    expect(whileStalled).toBeLessThan(100) // of ~310 chunks
    res.resume()
    expect((JSON.parse(await body) as { items: unknown[] }).items).toHaveLength(20_000)
    await finished
  })
})

describe('LIST through the API server', () => {
  it('streams a large collection instead of serializing it in one piece', async () => {
    const store = await openMemoryStore()
    await store.transact(items(600, 1000).map((o) => ({ type: 'create' as const, resource: 'configmaps', object: { apiVersion: 'v1', kind: 'ConfigMap', ...o } as never })))
    const server = await ApiServer.start({ store, port: 0, host: '127.0.0.1', admissionHooks: [] })
    try {
      const { res, body } = await fetchRaw(`${server.url}/api/v1/namespaces/default/configmaps`)
      const list = JSON.parse(await body) as { kind: string; metadata: { resourceVersion: string }; items: unknown[] }
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('application/json')
      expect(res.headers['transfer-encoding']).toBe('chunked')
      expect(list).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: String(store.resourceVersion) } })
      expect(list.items).toHaveLength(600)
    } finally {
      await server.close()
      await store.close()
    }
  })
})
