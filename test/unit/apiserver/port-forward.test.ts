/**
 * The pods/portforward subresource end to end in process: the ApiServer (memory store, port 0)
 * with an injected backend that dials a TCP echo server on 127.0.0.1:0, and a test SPDY/3.1
 * client built from kpe's framing plus a real zlib deflate with the SPDY/3 dictionary (as Go's
 * framer compresses). Checks the upgrade answers, SYN_REPLYs, data and FINs both ways, parallel
 * pairs, kubelet's error-stream messages, refused streams, PING, and teardown.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { request } from 'node:http'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { constants, createDeflate, type Deflate } from 'node:zlib'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { ApiServer, servePortForward, type PortForwardBackend, type PortForwardPod } from '../../../src/apiserver/index.js'
import {
  decodeHeaderBlock, encodeFrame, encodeHeaderBlock, flagFin, HeaderBlockInflater, rstStatus, spdy3Dictionary, SpdyFrameParser, SpdyServerConnection,
  type SpdyConnectionOptions, type SpdyFrame, type SpdyStream,
} from '../../../src/apiserver/spdy/index.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
let echo: Server | undefined
const clients: TestClient[] = []
const podSockets = new Set<Socket>()
/** Server ends of serveOnce's connections: a paused one would never see its client go. */
const serverSockets = new Set<Socket>()
afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy()
  for (const s of serverSockets) s.destroy()
  serverSockets.clear()
  await server?.close()
  await store?.close()
  for (const s of podSockets) s.destroy()
  await new Promise((resolve) => (echo ? echo.close(resolve) : resolve(undefined)))
  server = store = echo = undefined
})

const podPath = '/api/v1/namespaces/default/pods/p/portforward'
const uid = randomUUID()

/** A TCP echo server on loopback: the "container" listening on 8080. */
function startEcho(): Promise<number> {
  echo = createServer({ allowHalfOpen: true }, (s) => {
    podSockets.add(s)
    s.on('close', () => podSockets.delete(s))
    s.pipe(s)
  })
  return new Promise((resolve) => echo!.listen(0, '127.0.0.1', () => resolve((echo!.address() as AddressInfo).port)))
}

interface Dial { readonly pod: PortForwardPod; readonly port: number }

async function start(opts: { backend: 'echo' | 'none'; phase?: string } = { backend: 'echo' }): Promise<{ url: string; dials: Dial[] }> {
  store = await openMemoryStore()
  await store.create('pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid },
    spec: { nodeName: 'node-a', containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] }, status: { phase: opts.phase ?? 'Running', podIP: '10.244.0.7' },
  } as never)
  const dials: Dial[] = []
  const echoPort = opts.backend === 'echo' ? await startEcho() : 0
  const backend: PortForwardBackend = {
    dial(pod, port) {
      dials.push({ pod, port })
      if (port !== 8080) return Promise.reject(new Error(`failed to connect to localhost:${port} inside the pod: connection refused`))
      return new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: echoPort, allowHalfOpen: true })
        s.once('connect', () => resolve(s))
        s.once('error', reject)
      })
    },
  }
  server = await ApiServer.start({ store, port: 0, ...(opts.backend === 'echo' ? { portForward: backend } : {}) })
  return { url: server.url, dials }
}

/** What a SPDY client sees: frames in order, with reply header blocks already inflated. */
class TestClient {
  readonly socket: Socket
  readonly frames: SpdyFrame[] = []
  readonly #deflate: Deflate = createDeflate({ dictionary: spdy3Dictionary })
  readonly #inflater = new HeaderBlockInflater()
  readonly #parser = new SpdyFrameParser()
  #waiters: (() => void)[] = []
  #chain: Promise<void> = Promise.resolve()

  constructor(socket: Socket, head: Buffer) {
    this.socket = socket
    clients.push(this)
    socket.on('data', (c: Buffer) => this.#receive(c))
    if (head.length > 0) this.#receive(head)
  }

  #receive(chunk: Buffer): void {
    for (const f of this.#parser.push(chunk)) {
      // Header blocks go through the one inflate context in order, as a real client must.
      this.#chain = this.#chain.then(async () => {
        if (f.kind === 'syn-reply') expect(decodeHeaderBlock(await this.#inflater.inflate(f.headerBlock))).toEqual(new Map())
        this.frames.push(f)
        for (const w of this.#waiters.splice(0)) w()
      })
    }
  }

  async openStream(streamId: number, headers: Record<string, string>, flags = 0): Promise<void> {
    const raw = encodeHeaderBlock(new Map(Object.entries(headers).map(([k, v]) => [k, [v]])))
    const block = await new Promise<Buffer>((resolve) => {
      const out: Buffer[] = []
      const onData = (c: Buffer): void => { out.push(c) }
      this.#deflate.on('data', onData)
      this.#deflate.write(raw)
      this.#deflate.flush(constants.Z_SYNC_FLUSH, () => { this.#deflate.off('data', onData); resolve(Buffer.concat(out)) })
    })
    this.send({ kind: 'syn-stream', streamId, associatedStreamId: 0, priority: 0, slot: 0, flags, headerBlock: block })
  }

  send(f: SpdyFrame): void {
    this.socket.write(encodeFrame(f))
  }

  async waitFor(what: string, pred: (frames: readonly SpdyFrame[]) => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!pred(this.frames)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.map((f) => ({ ...f, data: undefined, headerBlock: undefined })))}`)
      await new Promise<void>((resolve) => { this.#waiters.push(resolve); setTimeout(resolve, 50) })
    }
  }

  dataOn(streamId: number): Buffer {
    return Buffer.concat(this.frames.flatMap((f) => (f.kind === 'data' && f.streamId === streamId ? [f.data] : [])))
  }

  hasFin(streamId: number): boolean {
    return this.frames.some((f) => f.kind === 'data' && f.streamId === streamId && (f.flags & flagFin) !== 0)
  }

  hasReply(streamId: number): boolean {
    return this.frames.some((f) => f.kind === 'syn-reply' && f.streamId === streamId)
  }
}

function upgrade(url: string, headers: Record<string, string>, method = 'POST'): Promise<{ status: number; headers: Record<string, unknown>; socket?: Socket; head?: Buffer; body?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${podPath}`, { method, headers: { connection: 'Upgrade', ...headers }, agent: false })
    req.on('upgrade', (res, socket: Socket, head: Buffer) => resolve({ status: res.statusCode ?? 0, headers: res.headers, socket, head }))
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function spdyClient(url: string): Promise<TestClient> {
  const r = await upgrade(url, { upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' })
  expect(r.status).toBe(101)
  expect(r.headers['x-stream-protocol-version']).toBe('portforward.k8s.io')
  expect(r.headers.upgrade).toBe('SPDY/3.1')
  return new TestClient(r.socket!, r.head!)
}

/** One forwarded connection as kubectl opens it: error stream (half-closed at once), then data stream. */
async function openPair(c: TestClient, firstId: number, requestId: string, port = '8080'): Promise<{ error: number; data: number }> {
  await c.openStream(firstId, { streamtype: 'error', port, requestid: requestId })
  c.send({ kind: 'data', streamId: firstId, flags: flagFin, data: Buffer.alloc(0) })
  await c.openStream(firstId + 2, { streamtype: 'data', port, requestid: requestId })
  return { error: firstId, data: firstId + 2 }
}

describe('pods/portforward over SPDY/3.1', () => {
  it('replies to each stream, carries bytes both ways FIN for FIN, then closes the error stream empty', async () => {
    const { url, dials } = await start()
    const c = await spdyClient(url)
    const { error, data } = await openPair(c, 1, '0')
    await c.waitFor('SYN_REPLY to both streams', () => c.hasReply(error) && c.hasReply(data))
    c.send({ kind: 'data', streamId: data, flags: 0, data: Buffer.from('hello ') })
    c.send({ kind: 'data', streamId: data, flags: flagFin, data: Buffer.from('pod') })
    await c.waitFor('FIN on the data and error streams', () => c.hasFin(data) && c.hasFin(error))
    expect(c.dataOn(data).toString()).toBe('hello pod')
    expect(c.dataOn(error).length).toBe(0)
    expect(dials).toEqual([{ pod: { namespace: 'default', name: 'p', uid, podIP: '10.244.0.7' }, port: 8080 }])
  })

  it('parallel connections on one SPDY connection stay apart, 1 MB each way each', async () => {
    const { url, dials } = await start()
    const c = await spdyClient(url)
    const a = await openPair(c, 1, '0')
    const b = await openPair(c, 5, '1')
    const pa = randomBytes(1 << 20)
    const pb = randomBytes(1 << 20)
    for (let at = 0; at < pa.length; at += 60_000) {
      // Interleaved, in frames of kubectl's size or so.
      c.send({ kind: 'data', streamId: a.data, flags: 0, data: pa.subarray(at, at + 60_000) })
      c.send({ kind: 'data', streamId: b.data, flags: 0, data: pb.subarray(at, at + 60_000) })
    }
    c.send({ kind: 'data', streamId: a.data, flags: flagFin, data: Buffer.alloc(0) })
    c.send({ kind: 'data', streamId: b.data, flags: flagFin, data: Buffer.alloc(0) })
    await c.waitFor('both echoes to finish', () => c.hasFin(a.data) && c.hasFin(b.data) && c.hasFin(a.error) && c.hasFin(b.error), 10_000)
    expect(c.dataOn(a.data).equals(pa)).toBe(true)
    expect(c.dataOn(b.data).equals(pb)).toBe(true)
    expect(dials).toHaveLength(2)
  })

  it('a port the backend cannot reach: kubelet\'s message on the error stream, then FIN on both streams', async () => {
    const { url } = await start()
    const c = await spdyClient(url)
    const { error, data } = await openPair(c, 1, '0', '9999')
    await c.waitFor('FIN on both streams', () => c.hasFin(error) && c.hasFin(data))
    expect(c.dataOn(error).toString()).toBe(`error forwarding port 9999 to pod default/p, uid ${uid}: failed to connect to localhost:9999 inside the pod: connection refused`)
    expect(c.dataOn(data).length).toBe(0)
  })

  it('a pod that is not Running gets an error on the error stream and is never dialled', async () => {
    const { url, dials } = await start({ backend: 'echo', phase: 'Pending' })
    const c = await spdyClient(url)
    const { error } = await openPair(c, 1, '0')
    await c.waitFor('FIN on the error stream', () => c.hasFin(error))
    expect(c.dataOn(error).toString()).toMatch(/^error forwarding port 8080 to pod default\/p, uid .*: pod is not running \(phase Pending\)$/)
    expect(dials).toEqual([])
  })

  it('streams with a bad type or port are reset without a reply; PING is echoed, SETTINGS and WINDOW_UPDATE ignored', async () => {
    const { url } = await start()
    const c = await spdyClient(url)
    await c.openStream(1, { streamtype: 'stdin', port: '8080', requestid: '0' })
    await c.openStream(3, { streamtype: 'data', port: 'http', requestid: '1' })
    await c.openStream(5, { streamtype: 'data', requestid: '2' })
    c.send({ kind: 'settings', flags: 0, entries: [{ flags: 0, id: 7, value: 1 << 20 }] })
    c.send({ kind: 'window-update', streamId: 0, delta: 1000 })
    c.send({ kind: 'ping', id: 7 })
    await c.waitFor('three resets and a ping', () => c.frames.filter((f) => f.kind === 'rst-stream').length === 3 && c.frames.some((f) => f.kind === 'ping'))
    expect(c.frames.filter((f) => f.kind === 'rst-stream')).toEqual([1, 3, 5].map((streamId) => ({ kind: 'rst-stream', streamId, status: rstStatus.cancel })))
    expect(c.frames.filter((f) => f.kind === 'syn-reply')).toEqual([])
    expect(c.frames.find((f) => f.kind === 'ping')).toEqual({ kind: 'ping', id: 7 })
  })

  it('a client reset of the data stream, or the client going away, closes the pod connection', async () => {
    const { url } = await start()
    const c = await spdyClient(url)
    const a = await openPair(c, 1, '0')
    await openPair(c, 5, '1')
    await c.waitFor('replies', () => c.hasReply(a.data) && c.hasReply(7))
    await waitUntil(() => podSockets.size === 2)
    c.send({ kind: 'rst-stream', streamId: a.data, status: rstStatus.cancel })
    await waitUntil(() => podSockets.size === 1)
    c.send({ kind: 'goaway', lastGoodStreamId: 0, status: 0 })
    c.socket.end()
    await waitUntil(() => podSockets.size === 0)
  })

  it('a protocol error (another SPDY version) ends the connection with GOAWAY PROTOCOL_ERROR', async () => {
    const { url } = await start()
    const c = await spdyClient(url)
    const v2 = encodeFrame({ kind: 'ping', id: 1 })
    v2.writeUInt16BE(0x8002, 0)
    c.socket.write(v2)
    await c.waitFor('GOAWAY', () => c.frames.some((f) => f.kind === 'goaway'))
    expect(c.frames.find((f) => f.kind === 'goaway')).toEqual({ kind: 'goaway', lastGoodStreamId: 0, status: 1 })
    await new Promise((resolve) => c.socket.once('close', resolve))
  })
})

/** A raw TCP server (held in `echo`, closed after each test) whose one connection is served by `serve`; a test client on it. */
async function serveOnce<T>(serve: (socket: Socket) => T): Promise<{ c: TestClient; served: Promise<{ conn: T; socket: Socket }> }> {
  let onServed!: (v: { conn: T; socket: Socket }) => void
  const served = new Promise<{ conn: T; socket: Socket }>((resolve) => { onServed = resolve })
  echo = createServer((s) => {
    serverSockets.add(s)
    onServed({ conn: serve(s), socket: s })
  })
  const port = await new Promise<number>((resolve) => echo!.listen(0, '127.0.0.1', () => resolve((echo!.address() as AddressInfo).port)))
  const socket = connect({ host: '127.0.0.1', port })
  await new Promise((resolve) => socket.once('connect', resolve))
  return { c: new TestClient(socket, Buffer.alloc(0)), served }
}

describe('SpdyServerConnection', () => {
  function serveSpdy(opts: Partial<SpdyConnectionOptions> & Pick<SpdyConnectionOptions, 'onStream'>): ReturnType<typeof serveOnce<SpdyServerConnection>> {
    return serveOnce((s) => new SpdyServerConnection(s, opts))
  }

  it('a stream that gets FIN while its buffer is over the high-water mark does not stall the connection', async () => {
    const streams: SpdyStream[] = []
    const { c } = await serveSpdy({ onStream: (s) => { streams.push(s) } })
    await c.openStream(1, { streamtype: 'data' })
    // kubectl's framing: 4 x 8 KiB DATA (over the 16 KiB high-water mark) and an empty FIN, in one TCP write.
    const payload = randomBytes(4 * 8192)
    c.socket.write(Buffer.concat([
      ...[0, 1, 2, 3].map((i) => encodeFrame({ kind: 'data', streamId: 1, flags: 0, data: payload.subarray(i * 8192, (i + 1) * 8192) })),
      encodeFrame({ kind: 'data', streamId: 1, flags: flagFin, data: Buffer.alloc(0) }),
    ]))
    await c.waitFor('SYN_REPLY', () => c.hasReply(1))
    await waitUntil(() => streams.length === 1 && streams[0]!.readableLength === payload.length)
    const chunks: Buffer[] = []
    streams[0]!.on('data', (d: Buffer) => chunks.push(d))
    await new Promise((resolve) => streams[0]!.once('end', resolve))
    expect(Buffer.concat(chunks).equals(payload)).toBe(true)
    c.send({ kind: 'ping', id: 3 })
    await c.waitFor('the PING echoed', () => c.frames.some((f) => f.kind === 'ping'), 1000)
  })

  it('refuses a stream over maxStreams open ones with REFUSED_STREAM, and accepts again once one closes', async () => {
    const streams: SpdyStream[] = []
    const { c } = await serveSpdy({ maxStreams: 2, onStream: (s) => { streams.push(s) } })
    for (const id of [1, 3, 5]) await c.openStream(id, { streamtype: 'data' })
    await c.waitFor('two replies and a reset', () => c.hasReply(1) && c.hasReply(3) && c.frames.some((f) => f.kind === 'rst-stream'))
    expect(c.frames.filter((f) => f.kind === 'rst-stream')).toEqual([{ kind: 'rst-stream', streamId: 5, status: rstStatus.refusedStream }])
    expect(c.hasReply(5)).toBe(false)
    streams[0]!.destroy()
    await c.openStream(7, { streamtype: 'data' })
    await c.waitFor('a reply to stream 7', () => c.hasReply(7))
  })
})

describe('the stream pair timeout', () => {
  it('half a pair that waits past streamCreationTimeout gets kubelet\'s message on its error stream', async () => {
    const never: PortForwardBackend = { dial: () => Promise.reject(new Error('not reached')) }
    echo = createServer((s) => { servePortForward(s, { backend: never, pod: () => undefined, streamCreationTimeoutMs: 50 }) })
    const port = await new Promise<number>((resolve) => echo!.listen(0, '127.0.0.1', () => resolve((echo!.address() as AddressInfo).port)))
    const socket = connect({ host: '127.0.0.1', port })
    await new Promise((resolve) => socket.once('connect', resolve))
    const c = new TestClient(socket, Buffer.alloc(0))
    await c.openStream(1, { streamtype: 'error', port: '8080', requestid: '0' })
    await c.waitFor('FIN on the error stream', () => c.hasFin(1))
    expect(c.dataOn(1).toString()).toBe('timed out waiting for streams')
  })

  it('a half pair\'s timer is cleared when its connection closes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    onTestFinished(() => { vi.useRealTimers() })
    const never: PortForwardBackend = { dial: () => Promise.reject(new Error('not reached')) }
    const { c, served } = await serveOnce((s) => servePortForward(s, { backend: never, pod: () => undefined }))
    const { conn, socket } = await served
    await c.openStream(1, { streamtype: 'error', port: '8080', requestid: '0' })
    // Polled with setImmediate: setTimeout is fake here, and the only timer must be the pair's.
    const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
    while (conn.openStreams === 0) await tick()
    expect(vi.getTimerCount()).toBe(1)
    const closed = new Promise((resolve) => socket.once('close', resolve))
    c.socket.destroy()
    await closed
    expect(vi.getTimerCount()).toBe(0)
  })
})

async function waitUntil(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('pods/portforward: the upgrade answers', () => {
  it('WebSocket with SPDY/3.1+portforward.k8s.io: 101 naming that subprotocol (ws itself would reject it)', async () => {
    const { url } = await start()
    const r = await upgrade(url, {
      upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'),
      'sec-websocket-protocol': 'SPDY/3.1+portforward.k8s.io',
    }, 'GET')
    expect(r.status).toBe(101)
    expect(r.headers['sec-websocket-protocol']).toBe('SPDY/3.1+portforward.k8s.io')
    r.socket!.destroy()
  })

  it('refuses what it cannot serve, as Status objects', async () => {
    const { url } = await start()
    const plain = await upgrade(url, {}, 'POST')
    expect(plain.status).toBe(400)
    expect(JSON.parse(plain.body!)).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: 'Upgrade request required' })
    const wrongWs = await upgrade(url, { upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-protocol': 'v5.channel.k8s.io' }, 'GET')
    expect(wrongWs.status).toBe(400)
    const wrongProto = await upgrade(url, { upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'v4.channel.k8s.io' })
    expect(wrongProto.status).toBe(403)
    const missing = await new Promise<number>((resolve) => {
      const req = request(`${url}/api/v1/namespaces/default/pods/nope/portforward`, { method: 'POST', headers: { connection: 'Upgrade', upgrade: 'SPDY/3.1' }, agent: false })
      req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0) })
      req.end()
    })
    expect(missing).toBe(404)
  })

  it('without a backend (control plane only): 503 that names kpe up', async () => {
    const { url } = await start({ backend: 'none' })
    const r = await upgrade(url, { upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' })
    expect(r.status).toBe(503)
    expect(JSON.parse(r.body!)).toMatchObject({ reason: 'ServiceUnavailable', message: expect.stringMatching(/port-forward needs `kpe up`/) })
  })
})
