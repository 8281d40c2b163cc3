/** The TCP copy loop over real loopback sockets: bytes, backpressure, half-close, resets, idle timeout. */
import { createHash, randomBytes } from 'node:crypto'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { SeenSourceTable } from '../../../src/kubelet/index.js'
import { connectToPod, pipeBoth } from '../../../src/proxy/userspace/index.js'

const servers: Server[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})

function listen(onConn: (s: Socket) => void): Promise<number> {
  const srv = createServer({ allowHalfOpen: true }, onConn)
  servers.push(srv)
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port)))
}

/** A proxy on loopback whose connections go to the pod at podPort through connectToPod + pipeBoth. */
async function proxyTo(podPort: number, read: 'stream' | 'reused-buffer', idleTimeoutMs = 60_000): Promise<{ port: number; seen: SeenSourceTable }> {
  const seen = new SeenSourceTable()
  const port = await listen((client) => {
    client.pause()
    client.on('error', () => {})
    void connectToPod({ address: '127.0.0.1', port: podPort }, { address: '10.244.0.1', port: 1234 }, seen, 2000, { read }).then(
      (up) => pipeBoth(client, up, idleTimeoutMs),
      () => client.destroy(),
    )
  })
  return { port, seen }
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s))
    s.once('error', reject)
  })
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    s.on('data', (d: Buffer) => parts.push(d))
    s.once('end', () => resolve(Buffer.concat(parts)))
    s.once('error', reject)
  })
}

describe.each(['stream', 'reused-buffer'] as const)('pipeBoth, pod socket read as %s', (read) => {
  it('carries 24 MiB each way unchanged, with a slow reader on one side', async () => {
    const up = randomBytes(24 * 1024 * 1024)
    const down = randomBytes(24 * 1024 * 1024)
    const podGot = new Promise<Buffer>((resolve) => {
      void listen((pod) => {
        pod.write(down)
        pod.end()
        // A slow reader: the proxy must stop reading from the client instead of buffering.
        const parts: Buffer[] = []
        pod.on('data', (d: Buffer) => {
          parts.push(d)
          pod.pause()
          setTimeout(() => pod.resume(), 1)
        })
        pod.on('end', () => resolve(Buffer.concat(parts)))
      }).then(async (podPort) => {
        const { port } = await proxyTo(podPort, read)
        const c = await dial(port)
        const got = readAll(c)
        c.end(up)
        expect(sha(await got)).toBe(sha(down))
      })
    })
    expect(sha(await podGot)).toBe(sha(up))
  }, 30_000)

  it('carries 16 MiB from the pod to a slow client unchanged (the direction whose reads use the reused buffer)', async () => {
    const down = randomBytes(16 * 1024 * 1024)
    const podPort = await listen((pod) => {
      pod.on('error', () => {})
      pod.end(down)
    })
    const { port } = await proxyTo(podPort, read)
    const c = await dial(port)
    c.end()
    // A slow reader: the proxy must stop reading from the pod, and must not reuse a buffer a
    // pending write to the client still holds.
    const got = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = []
      c.on('data', (d: Buffer) => {
        parts.push(d)
        c.pause()
        setTimeout(() => c.resume(), 1)
      })
      c.once('end', () => resolve(Buffer.concat(parts)))
      c.once('error', reject)
    })
    expect(got.length).toBe(down.length)
    expect(sha(got)).toBe(sha(down))
  }, 30_000)

  it('forwards a half-close: the pod still answers after the client has finished sending', async () => {
    const podPort = await listen((pod) => {
      const parts: Buffer[] = []
      pod.on('data', (d: Buffer) => parts.push(d))
      pod.on('end', () => pod.end(`got ${Buffer.concat(parts).toString()}`))
    })
    const { port } = await proxyTo(podPort, read)
    const c = await dial(port)
    const got = readAll(c)
    c.end('hello')
    expect((await got).toString()).toBe('got hello')
  })

  it('delivers bytes the pod sends before the client says anything', async () => {
    const podPort = await listen((pod) => pod.end('banner\n'))
    const { port } = await proxyTo(podPort, read)
    const c = await dial(port)
    expect((await readAll(c)).toString()).toBe('banner\n')
    c.end()
  })

  it('records the source the pod should see while the connection lives', async () => {
    let table: SeenSourceTable | undefined
    let seenByPod: unknown
    const podPort = await listen((pod) => {
      pod.once('data', () => {
        seenByPod = table?.lookup(pod.remoteAddress, pod.remotePort)
        pod.end('ok')
      })
    })
    const { port, seen } = await proxyTo(podPort, read)
    table = seen
    const c = await dial(port)
    c.write('who am I')
    await readAll(c)
    expect(seenByPod).toEqual({ address: '10.244.0.1', port: 1234 })
    c.end()
  })

  it('a reset from the pod takes the client connection down', async () => {
    const podPort = await listen((pod) => pod.once('data', () => pod.resetAndDestroy()))
    const { port } = await proxyTo(podPort, read)
    const c = await dial(port)
    c.on('error', () => {})
    c.write('x')
    // The proxy closes its side: the client sees the end of the stream.
    expect((await readAll(c)).length).toBe(0)
  })

  it('closes both sides when no byte moves for the idle timeout', async () => {
    let podEnded = false
    const podPort = await listen((pod) => {
      pod.on('error', () => {})
      pod.resume()
      pod.once('end', () => (podEnded = true))
    })
    const { port } = await proxyTo(podPort, read, 100)
    const c = await dial(port)
    c.on('error', () => {})
    const t0 = Date.now()
    await readAll(c)
    const waited = Date.now() - t0
    expect(waited).toBeGreaterThanOrEqual(90)
    expect(waited).toBeLessThan(1000)
    await new Promise((r) => setTimeout(r, 50))
    expect(podEnded).toBe(true)
  })
})
