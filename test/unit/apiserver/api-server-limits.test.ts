/**
 * Issue 10 item 7: the API server caps its open connections and gives a client a bounded time
 * to send its request head; both are options (kpe up flags).
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
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

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s))
    sockets.push(s)
    s.once('error', reject)
  })
}

/** What the server sends before it closes the connection ('' if it just closes). */
function answer(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    s.setEncoding('latin1')
    s.on('data', (d: string) => { text += d })
    s.on('error', () => {})
    s.once('close', () => resolve(text))
  })
}

describe('API server limits', () => {
  it('closes connections past maxConnections at once, and serves again when one leaves', async () => {
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0, limits: { maxConnections: 3 } })
    const idle = await Promise.all([open(server.port), open(server.port), open(server.port)])
    const extra = await open(server.port)
    expect(await answer(extra)).toBe('')
    idle[0]!.destroy()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await fetch(`${server.url}/version`, { headers: { connection: 'close' } })).status).toBe(200)
  })

  it('answers 408 and closes when the request head does not arrive within headersTimeoutMs', async () => {
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0, limits: { headersTimeoutMs: 300 } })
    const s = await open(server.port)
    const started = Date.now()
    s.write('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    expect(await answer(s)).toMatch(/^HTTP\/1\.1 408 /)
    expect(Date.now() - started).toBeLessThan(3_000)
  })
})
