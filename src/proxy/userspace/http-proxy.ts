/**
 * The HTTP forward-proxy entry point on a loopback port: absolute-URI requests and CONNECT.
 * Proxy-Authorization's user names the client (client-identity.ts). Each client connection
 * keeps one decision and one keep-alive upstream per destination, as conntrack pins a
 * connection; refusals answer 403, REJECT and unreachable 502, DROP never answers.
 */
import { listenOn } from './listen.js'
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { parseProxyUser, resolveClient, type PacketSource } from './client-identity.js'
import type { ClusterDataplane } from './cluster-dataplane.js'
import { decideDestination } from './decide-destination.js'
import type { RouteDecision } from './route-decision.js'
import { assertLoopbackTarget, holdConnection, pipeBoth } from './tcp-forward.js'

const hopByHop = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

type Forward = Extract<RouteDecision, { kind: 'forward' }>

interface Pinned {
  readonly route: RouteDecision
  readonly agent?: Agent
}

function proxyUser(req: IncomingMessage): string | undefined {
  const h = req.headers['proxy-authorization']
  const m = typeof h === 'string' ? /^Basic\s+(\S+)$/i.exec(h) : null
  if (!m) return undefined
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  return i < 0 ? decoded : decoded.slice(0, i)
}

function splitHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s)
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined
}

export class HttpProxyServer {
  readonly #dp: ClusterDataplane
  readonly #server: Server
  readonly #host: string
  readonly #pinned = new WeakMap<Socket, Map<string, Pinned>>()

  constructor(dp: ClusterDataplane, host = '127.0.0.1') {
    assertLoopbackTarget(host)
    this.#dp = dp
    this.#host = host
    this.#server = createServer({ headersTimeout: dp.limits.headerTimeoutMs, requestTimeout: 0 }, (req, res) => void this.#onRequest(req, res))
    this.#server.maxConnections = dp.limits.maxConnections
    this.#server.keepAliveTimeout = 5_000
    this.#server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => void this.#onConnect(req, socket, head))
  }

  listen(port: number): Promise<number> {
    return listenOn(this.#server, port, this.#host)
  }

  close(): void {
    this.#server.close()
    this.#server.closeAllConnections()
  }

  #client(req: IncomingMessage): PacketSource | { error: string } {
    const spec = parseProxyUser(proxyUser(req))
    if (spec.kind === 'invalid') return { error: spec.reason }
    return resolveClient(spec, req.socket.remoteAddress, this.#dp.index, this.#dp.defaultNode)
  }

  #pin(socket: Socket, key: string, make: () => Pinned): Pinned {
    let m = this.#pinned.get(socket)
    if (!m) {
      const fresh = new Map<string, Pinned>()
      m = fresh
      this.#pinned.set(socket, fresh)
      socket.once('close', () => {
        for (const p of fresh.values()) p.agent?.destroy()
      })
    }
    let p = m.get(key)
    if (!p) m.set(key, (p = make()))
    return p
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const deny = (status: number, text: string): void => {
      req.resume()
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-kpe-proxy': 'refused' })
      res.end(`kpe http proxy: ${text}\n`)
    }
    let url: URL
    try {
      url = new URL(req.url ?? '')
    } catch {
      return deny(400, 'an absolute URI (http://HOST/PATH) is required: this is a forward proxy')
    }
    if (url.protocol !== 'http:') return deny(400, `${url.protocol} URLs are forwarded only through CONNECT`)
    const client = this.#client(req)
    if ('error' in client) return deny(403, client.error)
    const port = url.port === '' ? 80 : Number(url.port)
    const dst = decideDestination(url.hostname, port, 'tcp', this.#dp.index)
    if (dst.kind === 'refuse') {
      this.#dp.refused('http proxy', client.describe, `${url.hostname}:${port}`, dst.reason)
      return deny(403, `refused ${url.hostname}:${port}: ${dst.reason}`)
    }
    const pinned = this.#pin(req.socket, `${client.src}>${dst.ip}:${port}`, () => {
      const d = this.#dp.decide('http proxy', client, dst, req.socket.remotePort ?? 0)
      if ('error' in d) return { route: { kind: 'unreachable', reason: d.error } }
      return d.route.kind === 'forward' ? { route: d.route, agent: this.#agentFor(d.route) } : { route: d.route }
    })
    const r = pinned.route
    switch (r.kind) {
      case 'drop':
        return holdConnection(req.socket, this.#dp.limits.dropHoldMs)
      case 'reject':
        return deny(502, `connection to ${dst.ip}:${port} refused: ${r.reason}`)
      case 'unreachable':
        return deny(502, `${dst.ip}:${port} unreachable: ${r.reason}`)
      case 'forward':
        return this.#forward(req, res, url, r, pinned.agent!)
    }
  }

  #agentFor(route: Forward): Agent {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const createConnection = (_opts: unknown, done: (err: Error | null, s?: Socket) => void): undefined => {
      this.#dp.openTcp(route).then((s) => done(null, s), (e: Error) => done(e))
      return undefined
    }
    ;(agent as unknown as { createConnection: typeof createConnection }).createConnection = createConnection
    return agent
  }

  #forward(req: IncomingMessage, res: ServerResponse, url: URL, route: Forward, agent: Agent): void {
    const headers: Record<string, string | string[]> = {}
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !hopByHop.has(k)) headers[k] = v
    const up = request({ host: route.local.address, port: route.local.port, method: req.method, path: `${url.pathname}${url.search}`, headers, agent }, (ures) => {
      const out: Record<string, string | string[]> = {}
      for (const [k, v] of Object.entries(ures.headers)) if (v !== undefined && !hopByHop.has(k)) out[k] = v
      res.writeHead(ures.statusCode ?? 502, out)
      ures.pipe(res)
    })
    up.setTimeout(this.#dp.limits.idleTimeoutMs, () => up.destroy(new Error('idle timeout')))
    up.on('error', (e) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`kpe http proxy: upstream ${route.pod} failed: ${e.message}\n`)
      } else res.destroy()
    })
    req.pipe(up)
  }

  async #onConnect(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    socket.on('error', () => {})
    const fail = (status: string, text: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nkpe http proxy: ${text}\n`)
    }
    const target = splitHostPort(req.url ?? '')
    if (!target) return fail('400 Bad Request', 'CONNECT needs HOST:PORT')
    const client = this.#client(req)
    if ('error' in client) return fail('403 Forbidden', client.error)
    const dst = decideDestination(target.host, target.port, 'tcp', this.#dp.index)
    if (dst.kind === 'refuse') {
      this.#dp.refused('http proxy connect', client.describe, req.url ?? '', dst.reason)
      return fail('403 Forbidden', `refused ${req.url}: ${dst.reason}`)
    }
    const d = this.#dp.decide('http proxy connect', client, dst, socket.remotePort ?? 0)
    if ('error' in d) return fail('502 Bad Gateway', d.error)
    const r = d.route
    switch (r.kind) {
      case 'drop':
        return holdConnection(socket, this.#dp.limits.dropHoldMs)
      case 'reject':
        return fail('502 Bad Gateway', `connection refused: ${r.reason}`)
      case 'unreachable':
        return fail('502 Bad Gateway', r.reason)
      case 'forward': {
        let up: Socket
        try {
          up = await this.#dp.openTcp(r)
        } catch (e) {
          return fail('502 Bad Gateway', e instanceof Error ? e.message : String(e))
        }
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        if (head.length > 0) up.write(head)
        pipeBoth(socket, up, this.#dp.limits.idleTimeoutMs)
      }
    }
  }
}
