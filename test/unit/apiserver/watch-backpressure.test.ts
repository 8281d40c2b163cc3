/**
 * Issue 10 item 7: watch streams had no backpressure, so a watcher that never reads made the
 * server buffer every event for it, forever. A watcher past the buffer bound is closed with a
 * 410 Expired ERROR event (chunked HTTP and WebSocket), and its store watch is stopped.
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ApiServer } from '../../../src/apiserver/index.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
const sockets: Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await server?.close()
  await store?.close()
  server = store = undefined
})

const bound = 1024 * 1024
/** 40 MB of events: more than the kernel's socket buffers on loopback hold. */
const count = 100

/** The store, counting live watches on configmaps (the server keeps watches of its own, on CRDs). */
async function start(): Promise<{ live: () => number }> {
  store = await openMemoryStore()
  let live = 0
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'watch') { const v = Reflect.get(target, prop, receiver) as unknown; return typeof v === 'function' ? v.bind(target) : v }
      return (...args: Parameters<VersionedStore['watch']>) => {
        const h = target.watch(...args)
        if (args[0] !== 'configmaps') return h
        live++
        let stopped = false
        return { stop: () => { if (!stopped) { stopped = true; live-- } h.stop() } }
      }
    },
  })
  server = await ApiServer.start({ store: counted, port: 0, limits: { watchBufferBytes: bound } })
  return { live: () => live }
}

const big = 'x'.repeat(400_000)
async function flood(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    // A turn of the event loop per write (the memory store resolves in microtasks): reading clients read.
    await new Promise((resolve) => setImmediate(resolve))
    await store!.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default' }, data: { big } } as never)
  }
}

async function until(cond: () => boolean, ms = 5_000, what = cond.toString()): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('slow watchers', () => {
  it('a chunked watcher that stops reading is closed with a 410 ERROR event and its store watch stopped', async () => {
    const { live } = await start()
    const s = connect(server!.port, '127.0.0.1')
    sockets.push(s)
    s.pause()
    s.write(`GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: 127.0.0.1:${server!.port}\r\n\r\n`)
    await until(() => live() === 1)
    await flood(count)
    // 40 MB of events against a 1 MiB bound: the server gave up on this watcher.
    await until(() => live() === 0)
    let text = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => { text += d })
    s.resume()
    await new Promise((resolve) => s.once('end', resolve))
    const events = text.split('\r\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; object: { code?: number; reason?: string } })
    expect(events.length).toBeLessThan(count)
    expect(events.at(-1)).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })
  })

  it('a WebSocket watcher that stops reading is closed the same way; a reading watcher is not', async () => {
    const { live } = await start()
    const url = `ws://127.0.0.1:${server!.port}/api/v1/namespaces/default/configmaps?watch=true`
    const fast = new WebSocket(url)
    const fastEvents: string[] = []
    fast.on('message', (m) => fastEvents.push(String(m).slice(0, 20)))
    await new Promise((resolve) => fast.once('open', resolve))
    // The slow one: a raw socket that completes the handshake and then never reads.
    const slow = connect(server!.port, '127.0.0.1')
    sockets.push(slow)
    slow.pause()
    slow.write(`GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: 127.0.0.1:${server!.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`)
    await until(() => live() === 2)
    await flood(count)
    await until(() => live() === 1)
    await until(() => fastEvents.length === count)
    let text = ''
    slow.setEncoding('latin1')
    slow.on('data', (d: string) => { text += d })
    slow.resume()
    await new Promise((resolve) => slow.once('close', resolve))
    const events = text.split(/(?=\{"type":)/).slice(1)
    expect(events.length).toBeLessThan(count)
    expect(events.at(-1)).toMatch(/^\{"type":"ERROR","object":\{"kind":"Status".*"reason":"Expired".*"code":410\}\}/)
    fast.close()
  })
})
