/**
 * The HTTP forward proxy over real sockets: a one-node cluster (startNodeAgents over in-memory
 * sources) with three Services whose endpoints are node:http servers on loopback, and a raw TCP
 * client, so keep-alive, pipelining and switching Services on one connection are visible byte for byte.
 * Responses are read with node:http's own parser (its client, or the parser it runs), never with
 * the proxy's framing code, so a framing bug shared by the proxy and the test cannot pass.
 */
import { Agent, createServer, request, type Server } from 'node:http'
import { createRequire } from 'node:module'
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EndpointSlice, Node, Pod, Service } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { realTimers } from '../../../src/runtime/index.js'
import { ForwardConnection } from '../../../src/proxy/userspace/http-forward-connection.js'
import { parseRequestHead } from '../../../src/proxy/userspace/index.js'
import { startNodeAgents, type NodeAgents } from '../../../src/node/index.js'

/** The HTTP/1 parser node:http's client runs (llhttp), as `_http_common` exposes it. */
interface NodeHttpParser {
  initialize(type: number, resource: object): void
  execute(data: Buffer): number | Error
  finish(): number | Error | undefined
  [callback: number]: unknown
}
const { HTTPParser } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: { new (): NodeHttpParser; readonly RESPONSE: number; readonly kOnHeadersComplete: number; readonly kOnBody: number; readonly kOnMessageComplete: number }
}

const node: Node = {
  apiVersion: 'v1', kind: 'Node',
  metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' } },
  spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
  status: { addresses: [{ type: 'InternalIP', address: '192.168.77.10' }] },
}

let agents: NodeAgents
let proxyPort = 0
const backends: Server[] = []

/**
 * Each backend answers "NAME METHOD URL body=<request body> host=<Host>"; /slow/N waits N ms.
 * alpha and beta accept every Upgrade (101, then echo); gamma has no upgrade handler, so
 * node:http answers its Upgrade requests as plain HTTP/1.1.
 */
function backend(name: string, o: { upgrades: boolean }): Promise<number> {
  const s = createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (d: Buffer) => parts.push(d))
    req.on('end', () => {
      const text = `${name} ${req.method} ${req.url} body=${Buffer.concat(parts).toString()} host=${req.headers.host} auth=${req.headers['proxy-authorization'] ?? '-'}`
      const delay = /^\/slow\/(\d+)/.exec(req.url ?? '')
      const send = (): void => {
        if (req.url === '/chunked') {
          res.write(`${text} `)
          res.end('tail')
        } else res.end(text)
      }
      if (delay) setTimeout(send, Number(delay[1]))
      else send()
    })
  })
  if (o.upgrades) {
    s.on('upgrade', (_req, socket: Socket, head: Buffer) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n')
      if (head.length > 0) socket.write(head)
      socket.pipe(socket)
    })
  }
  backends.push(s)
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)))
}

const tcpBackends: TcpServer[] = []

/** A pod that answers the first bytes of each connection with `reply`, in one write, whatever was asked. */
function rawBackend(reply: string): Promise<number> {
  const s = createTcpServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', () => socket.write(reply))
  })
  tcpBackends.push(s)
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)))
}

beforeAll(async () => {
  const services = new MemoryObjectSource<Service>()
  const slices = new MemoryObjectSource<EndpointSlice>()
  const pods = new MemoryObjectSource<Pod>()
  const names = ['alpha', 'beta', 'gamma']
  const ports = [await backend('alpha', { upgrades: true }), await backend('beta', { upgrades: true }), await backend('gamma', { upgrades: false })]
  names.forEach((name, i) => {
    const clusterIP = `10.96.0.${10 + i}`
    services.upsert({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } })
    slices.upsert({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [`10.244.0.${10 + i}`], nodeName: 'node-a', conditions: { ready: true, serving: true, terminating: false } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    })
  })
  // broken (10.96.0.13): one good response, then bytes that are not a response, in one read.
  const brokenPort = await rawBackend('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirstnot a status line\r\n\r\n')
  services.upsert({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'broken', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.13', clusterIPs: ['10.96.0.13'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } })
  slices.upsert({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'broken-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'broken' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.13'], nodeName: 'node-a', conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  })
  // A Service without endpoints: its ClusterIP is REJECTed.
  services.upsert({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } })
  agents = await startNodeAgents({
    nodes: [node], pods, services, endpointSlices: slices,
    status: { async writeStatus() {}, async finalizeDeletion() {} },
    timers: realTimers, clock: { now: () => Date.now() }, random: { next: () => 0.5 },
    nodeLoopbackPrefix: '127.0.0.', httpProxyPort: 0, minSyncPeriodMs: 10,
  })
  ports.forEach((p, i) => agents.network.set(`10.244.0.${10 + i}`, 8080, 'tcp', { local: { address: '127.0.0.1', port: p }, pod: `default/pod-${i}`, node: 'node-a' }))
  agents.network.set('10.244.0.13', 8080, 'tcp', { local: { address: '127.0.0.1', port: brokenPort }, pod: 'default/broken-0', node: 'node-a' })
  await Promise.all([...agents.proxiers.values()].map((p) => p.settled()))
  await agents.proxy.refresh()
  proxyPort = agents.proxy.ports.http!
}, 30_000)

afterAll(async () => {
  await agents.stop()
  for (const b of backends) b.close()
  for (const b of tcpBackends) b.close()
})

interface RawResponse { readonly status: number; readonly head: string; readonly body: string }

/**
 * A raw client connection that collects complete responses, parsed by node:http's parser with
 * the rules node:http's client applies (HEAD has no body, a 2xx to CONNECT and a 101 start a
 * tunnel, whose bytes are parsed as a fresh stream of responses).
 */
class RawClient {
  readonly socket: Socket
  readonly responses: RawResponse[] = []
  readonly methods: string[] = []
  /** Every byte received, as it came. */
  raw = Buffer.alloc(0)
  parseError: Error | undefined
  ended = false
  #parser: NodeHttpParser
  #current = { status: 0, head: '', body: [] as Buffer[] }
  #interim = false
  #tunnel = false
  #waiters: (() => void)[] = []

  constructor(port: number) {
    this.#parser = this.#newParser()
    this.socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true })
    this.socket.on('data', (d: Buffer) => {
      this.raw = Buffer.concat([this.raw, d])
      this.#feed(d)
    })
    this.socket.on('end', () => {
      this.ended = true
      if (this.parseError === undefined) this.#parser.finish()
      this.#wake()
    })
    this.socket.on('close', () => {
      this.ended = true
      this.#wake()
    })
    this.socket.on('error', () => {})
  }

  send(text: string, method = 'GET'): void {
    this.methods.push(method)
    this.socket.write(text)
  }

  async waitFor(n: number, timeoutMs = 3000): Promise<RawResponse[]> {
    const t0 = Date.now()
    while (this.responses.length < n && !this.ended) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`only ${this.responses.length} of ${n} responses`)
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 50)
      })
    }
    return this.responses
  }

  async waitForEnd(timeoutMs = 3000): Promise<void> {
    const t0 = Date.now()
    while (!this.ended) {
      if (Date.now() - t0 > timeoutMs) throw new Error('the connection is still open')
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 50)
      })
    }
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w()
  }

  #newParser(): NodeHttpParser {
    const p = new HTTPParser()
    p.initialize(HTTPParser.RESPONSE, {})
    p[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, fields: string[], _method: unknown, _url: unknown, status: number, _reason: string, upgrade: boolean): number => {
      const method = this.methods[this.responses.length] ?? 'GET'
      const head: string[] = []
      for (let i = 0; i + 1 < fields.length; i += 2) head.push(`${fields[i]}: ${fields[i + 1]}`)
      this.#current = { status, head: head.join('\r\n'), body: [] }
      this.#interim = status >= 100 && status < 200 && status !== 101
      if (this.#interim) return 1
      if (method === 'CONNECT' && status >= 200 && status < 300) {
        this.#tunnel = true
        return 2
      }
      if (upgrade) this.#tunnel = true
      return method === 'HEAD' ? 1 : 0
    }
    p[HTTPParser.kOnBody] = (b: Buffer): void => void this.#current.body.push(Buffer.from(b))
    p[HTTPParser.kOnMessageComplete] = (): void => {
      if (this.#interim) return
      this.responses.push({ status: this.#current.status, head: this.#current.head, body: Buffer.concat(this.#current.body).toString() })
      this.#wake()
    }
    return p
  }

  #feed(d: Buffer): void {
    if (this.parseError) return
    const n = this.#parser.execute(d)
    if (n instanceof Error) {
      this.parseError = n
      return
    }
    if (this.#tunnel) {
      // The tunnel's bytes start a new stream: inside a CONNECT tunnel, the pod's own responses.
      this.#tunnel = false
      this.#parser = this.#newParser()
      if (n < d.length) this.#feed(d.subarray(n))
    }
  }
}

/** A client whose every write completes on a later turn of the event loop, as a socket whose peer reads slowly. */
class SlowClient extends Duplex {
  readonly remoteAddress = '127.0.0.1'
  readonly remotePort = 40_000
  readonly received: Buffer[] = []

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (e?: Error | null) => void): void {
    this.received.push(Buffer.from(chunk))
    setImmediate(done)
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const t0 = Date.now()
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}

/** GET through the proxy with node:http's client, on the agent's keep-alive connection. */
function getVia(agent: Agent, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: url, agent, headers: { host: new URL(url).host, ...headers } }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket }))
    })
    req.on('error', reject)
    req.end()
  })
}

const get = (url: string, extra = ''): string => `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n${extra}\r\n`

describe('HTTP forward proxy at L4', () => {
  it('carries keep-alive requests on one connection, rewriting the request line to origin-form', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const r = [
      await getVia(agent, 'http://10.96.0.10/one?x=1'),
      await getVia(agent, 'http://10.96.0.10/two'),
      await getVia(agent, 'http://10.96.0.11/three'),
      await getVia(agent, 'http://127.0.0.1:22/'), // refused: the proxy's own answer
      await getVia(agent, 'http://10.96.0.10/four'),
    ]
    agent.destroy()
    expect(r.map((x) => `${x.status} ${x.body.split(' ').slice(0, x.body.startsWith('kpe') ? 4 : 3).join(' ')}`)).toEqual([
      '200 alpha GET /one?x=1',
      '200 alpha GET /two',
      '200 beta GET /three',
      '403 kpe http proxy: refused',
      '200 alpha GET /four',
    ])
    expect(r[0]!.body).toBe('alpha GET /one?x=1 body= host=10.96.0.10 auth=-')
    expect(r.map((x) => x.reused)).toEqual([false, true, true, true, true])
  })

  it('keeps pipelined responses in request order across Services, the proxy\'s own answers included', async () => {
    const c = new RawClient(proxyPort)
    c.send(
      get('http://10.96.0.10/slow/80') +
        get('http://beta.default.svc.cluster.local/b1') +
        get('http://127.0.0.1:22/') + // refused: not a cluster address
        get('http://10.96.0.10/slow/30') +
        get('http://10.96.0.20/') + // REJECT: no endpoints
        get('http://10.96.0.11/b2'),
    )
    const r = await c.waitFor(6)
    expect(r.map((x) => `${x.status} ${x.body.split(' ').slice(0, x.body.startsWith('kpe') ? 4 : 3).join(' ')}`)).toEqual([
      '200 alpha GET /slow/80',
      '200 beta GET /b1',
      '403 kpe http proxy: refused',
      '200 alpha GET /slow/30',
      '502 kpe http proxy: connection',
      '200 beta GET /b2',
    ])
    c.socket.destroy()
  })

  it('passes request bodies with Content-Length and chunked framing, and chunked responses', async () => {
    const c = new RawClient(proxyPort)
    c.send('POST http://10.96.0.11/len HTTP/1.1\r\nHost: 10.96.0.11\r\nContent-Length: 5\r\n\r\nhello', 'POST')
    c.send('POST http://10.96.0.10/chunked HTTP/1.1\r\nHost: 10.96.0.10\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n', 'POST')
    c.send('HEAD http://10.96.0.10/h HTTP/1.1\r\nHost: 10.96.0.10\r\n\r\n', 'HEAD')
    c.send(get('http://10.96.0.11/after'))
    const r = await c.waitFor(4)
    expect(r[0]!.body).toBe('beta POST /len body=hello host=10.96.0.11 auth=-')
    expect(r[1]!.body).toBe('alpha POST /chunked body=abcde host=10.96.0.10 auth=- tail')
    expect(r[1]!.head).toMatch(/transfer-encoding: chunked/i)
    // The chunked response passes unchanged: its raw chunks carry both writes of the pod.
    expect(c.raw.toString('latin1')).toContain('\r\ntail\r\n0\r\n\r\n')
    expect(r[2]!.status).toBe(200)
    expect(r[2]!.body).toBe('')
    expect(r[3]!.body).toBe('beta GET /after body= host=10.96.0.11 auth=-')
    c.socket.destroy()
  })

  it('drops Proxy-Authorization before the pod and adds a Host when the client sent none', async () => {
    const c = new RawClient(proxyPort)
    const auth = `Basic ${Buffer.from('via.node-a:x').toString('base64')}`
    c.send(`GET http://10.96.0.10/h HTTP/1.1\r\nProxy-Authorization: ${auth}\r\nProxy-Connection: keep-alive\r\n\r\n`)
    const r = await c.waitFor(1)
    expect(r[0]!.body).toBe('alpha GET /h body= host=10.96.0.10 auth=-')
    c.socket.destroy()
  })

  it('gives a web page nothing: its origin-form requests, even carrying a proxy request in the body, are answered 400 (docs/security.md)', async () => {
    const c = new RawClient(proxyPort)
    // What fetch('http://127.0.0.1:PORT/', { method: 'POST', body }) sends from a page on another origin, also after DNS rebinding.
    const smuggled = 'GET http://10.96.0.10/stolen HTTP/1.1\r\nHost: 10.96.0.10\r\n\r\n'
    c.send(`POST / HTTP/1.1\r\nHost: attacker.example:${proxyPort}\r\nOrigin: https://attacker.example\r\nContent-Type: text/plain\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`)
    c.send(`GET /again HTTP/1.1\r\nHost: attacker.example:${proxyPort}\r\n\r\n`)
    const r = await c.waitFor(2)
    expect(r.map((x) => x.status)).toEqual([400, 400])
    expect(r.every((x) => /absolute URI/.test(x.body))).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(c.responses).toHaveLength(2)
    c.socket.destroy()
  })

  it('replaces the client\'s Host with the authority of the absolute URI (RFC 9112 section 3.2.2)', async () => {
    const c = new RawClient(proxyPort)
    c.send('GET http://10.96.0.10/h HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n')
    c.send('GET http://10.96.0.11:80/h HTTP/1.1\r\nHost: 10.96.0.10\r\n\r\n')
    const r = await c.waitFor(2)
    expect(r.map((x) => x.body)).toEqual(['alpha GET /h body= host=10.96.0.10 auth=-', 'beta GET /h body= host=10.96.0.11:80 auth=-'])
    c.socket.destroy()
  })

  it('answers a malformed chunked request body with 400 when no other response is owed', async () => {
    const c = new RawClient(proxyPort)
    c.send('POST http://10.96.0.10/x HTTP/1.1\r\nHost: 10.96.0.10\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'POST')
    const r = await c.waitFor(1)
    expect(r[0]!.status).toBe(400)
    expect(r[0]!.body).toMatch(/malformed chunked request body/)
    await c.waitForEnd()
  })

  it('closes the connection on a malformed chunked request body while an earlier response is owed, instead of splicing a 400 into it', async () => {
    const c = new RawClient(proxyPort)
    c.send(get('http://10.96.0.10/slow/100'))
    c.send('POST http://10.96.0.10/x HTTP/1.1\r\nHost: 10.96.0.10\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'POST')
    await c.waitForEnd()
    expect(c.raw.toString('latin1')).not.toMatch(/kpe http proxy/)
    expect(c.responses.map((x) => x.status)).not.toContain(400)
  })

  it('passes on the responses a pod completed before the one it broke, then answers 502 for that one and closes', async () => {
    const c = new RawClient(proxyPort)
    c.send(get('http://10.96.0.13/first') + get('http://10.96.0.13/second'))
    const r = await c.waitFor(2)
    await c.waitForEnd()
    expect(r.map((x) => `${x.status} ${x.body}`)).toEqual(['200 first', '502 kpe http proxy: upstream 10.96.0.13:80: malformed status line\n'])
  })

  it('resumes a pod link paused for a slow client after the proxy\'s own answer has drained', async () => {
    const client = new SlowClient()
    new ForwardConnection(agents.proxy.dataplane, client as unknown as Socket)
    // The first response's write is still in progress when the 403 is written behind it: the
    // pod link waits for the client to drain, and only the 403's completion can say it has.
    client.push(get('http://10.96.0.10/one') + get('http://127.0.0.1:22/') + get('http://10.96.0.10/two'))
    const arrived = await until(() => Buffer.concat(client.received).includes('alpha GET /two'), 2000)
    client.destroy()
    expect(arrived).toBe(true)
  })

  it('answers origin-form requests and malformed heads with 400, and unknown proxy users with 403', async () => {
    const c = new RawClient(proxyPort)
    c.send('GET /local HTTP/1.1\r\nHost: x\r\n\r\n')
    c.send(`GET http://10.96.0.10/ HTTP/1.1\r\nProxy-Authorization: Basic ${Buffer.from('pod.default.nobody:x').toString('base64')}\r\n\r\n`)
    c.send('BROKEN\r\n\r\n')
    const r = await c.waitFor(3)
    expect(r.map((x) => x.status)).toEqual([400, 403, 400])
    expect(r[2]!.head).toMatch(/connection: close/)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(c.ended).toBe(true)
  })

  it('finishes the responses it owes after the client half-closes, then closes', async () => {
    const c = new RawClient(proxyPort)
    c.send(get('http://10.96.0.10/slow/50') + get('http://10.96.0.11/x'))
    c.socket.end()
    const r = await c.waitFor(2)
    expect(r.map((x) => x.body.split(' ')[0])).toEqual(['alpha', 'beta'])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(c.ended).toBe(true)
  })

  it('works for node:http with a proxy agent-style absolute URL (what curl -x sends)', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: 'http://10.96.0.11/via-node', headers: { host: '10.96.0.11' } }, (res) => {
        let s = ''
        res.on('data', (d: Buffer) => (s += d.toString()))
        res.on('end', () => resolve(s))
      })
      req.on('error', reject)
      req.end()
    })
    expect(body).toBe('beta GET /via-node body= host=10.96.0.11 auth=-')
  })

  it('CONNECT opens a tunnel to the Service after earlier responses', async () => {
    const c = new RawClient(proxyPort)
    c.send(get('http://10.96.0.10/first'))
    c.socket.write('CONNECT 10.96.0.11:80 HTTP/1.1\r\nHost: 10.96.0.11:80\r\n\r\n')
    c.methods.push('CONNECT')
    const r = await c.waitFor(2)
    expect(r[0]!.body).toMatch(/^alpha GET \/first/)
    expect(r[1]!.status).toBe(200)
    c.send(get('http://ignored/inside'))
    // Inside the tunnel the request goes to the pod as it is.
    const r2 = await c.waitFor(3)
    expect(r2[2]!.body).toBe('beta GET http://ignored/inside body= host=ignored auth=-')
    c.socket.destroy()
  })
})

describe('HTTP forward proxy upgrades', () => {
  it('forwards the body of an Upgrade request before waiting for the answer, which may decline', async () => {
    const c = new RawClient(proxyPort)
    c.send('POST http://10.96.0.12/up HTTP/1.1\r\nHost: 10.96.0.12\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\nhello', 'POST')
    const r = await c.waitFor(1)
    expect(r[0]!.status).toBe(200)
    expect(r[0]!.body).toBe('gamma POST /up body=hello host=10.96.0.12 auth=-')
    c.send(get('http://10.96.0.12/next'))
    const r2 = await c.waitFor(2)
    expect(r2[1]!.body).toBe('gamma GET /next body= host=10.96.0.12 auth=-')
    c.socket.destroy()
  })

  it('an Upgrade answered with 101 turns the connection into a tunnel to that pod', async () => {
    const c = new RawClient(proxyPort)
    c.send(get('http://10.96.0.10/before'))
    await c.waitFor(1)
    c.send(get('http://10.96.0.10/ws', 'Connection: Upgrade\r\nUpgrade: echo\r\n'))
    const r = await c.waitFor(2)
    expect(r[1]!.status).toBe(101)
    const echoed = new Promise<string>((resolve) => c.socket.once('data', (d: Buffer) => resolve(d.toString())))
    c.socket.write('ping through the tunnel')
    expect(await echoed).toBe('ping through the tunnel')
    c.socket.destroy()
  })
})

/** A raw half-open connection to the proxy that keeps every byte it receives and notes the proxy's FIN. */
async function halfOpenClient(): Promise<{ socket: Socket; text: () => string; ended: Promise<boolean> }> {
  const socket = connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: true })
  const received: Buffer[] = []
  socket.on('data', (d: Buffer) => received.push(d))
  const ended = new Promise<boolean>((resolve) => {
    socket.once('end', () => resolve(true))
    socket.once('close', () => resolve(false))
  })
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  return { socket, text: () => Buffer.concat(received).toString('latin1'), ended }
}

describe('HTTP forward proxy upgrade tunnels', () => {
  const upgrade = get('http://10.96.0.10/ws', 'Connection: Upgrade\r\nUpgrade: echo\r\n')

  it('passes the bytes sent right behind the Upgrade request once the pod has switched, and a half-close each way', async () => {
    const c = await halfOpenClient()
    c.socket.write(upgrade + 'sent early;')
    expect(await until(() => c.text().endsWith('sent early;'), 5000)).toBe(true)
    // The client's FIN reaches the echoing pod, which ends too: its FIN comes back after the echo.
    c.socket.end('and last')
    expect(await c.ended).toBe(true)
    expect(c.text()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\nsent early;and last$/)
    c.socket.destroy()
  })

  it('carries a FIN the client sent before the 101 on to the pod (it used to be lost until the idle timeout)', async () => {
    const c = await halfOpenClient()
    c.socket.end(upgrade + 'then FIN')
    const ended = await Promise.race([c.ended, new Promise<string>((resolve) => setTimeout(() => resolve('no FIN back within 3 s'), 3000))])
    expect(ended).toBe(true)
    expect(c.text()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\nthen FIN$/)
    c.socket.destroy()
  })
})

describe('request head parsing', () => {
  it.each([
    ['GET http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['GET http://a/ HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', 400],
    ['GET http://a/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['GET http://a/ HTTP/1.1\r\n folded: x\r\n\r\n', 400],
    ['GET http://a/ HTTP/2.0\r\n\r\n', 400],
    ['GET http://a/ HTTP/1.1\r\nBad Name: x\r\n\r\n', 400],
  ])('rejects %j with %i', (head, status) => {
    const r = parseRequestHead(Buffer.from(head), 16384)
    expect(r.kind === 'error' ? r.status : r.kind).toBe(status)
  })

  it('is incomplete until the empty line, and refuses heads over the limit', () => {
    expect(parseRequestHead(Buffer.from('GET http://a/ HTTP/1.1\r\nHost: a\r\n'), 16384).kind).toBe('incomplete')
    const big = parseRequestHead(Buffer.from(`GET http://a/ HTTP/1.1\r\nX: ${'y'.repeat(200)}`), 100)
    expect(big.kind === 'error' ? big.status : big.kind).toBe(431)
  })
})
