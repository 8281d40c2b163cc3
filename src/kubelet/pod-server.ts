/**
 * Runs one built-in behaviour on one port as a real server on 127.0.0.1, port 0: HTTP for the
 * HTTP images, HTTP-or-raw echo (sniffed from the first bytes) for the default, and UDP. The
 * client address a reply names comes from the SeenSourceTable. Listens on loopback only.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type Server, type Socket } from 'node:net'
import type { L4Proto } from '../net/index.js'
import type { PodBehaviour } from './pod-behaviour.js'
import type { LoopbackAddress } from './pod-network-table.js'
import { httpReply, looksLikeHttp, tcpGreeting, udpReply, type PodIdentity } from './pod-replies.js'
import type { SeenSourceTable } from './seen-source-table.js'
import { httpRequestLine, tcpConnectionLine, udpDatagramLine } from './request-log.js'

export interface RunningServer {
  readonly local: LoopbackAddress
  /** Stops accepting; open connections are destroyed. */
  close(): Promise<void>
}

export interface PodServerOptions {
  readonly behaviour: PodBehaviour
  readonly proto: L4Proto
  readonly pod: PodIdentity
  readonly seen: SeenSourceTable
  /** Loopback address to listen on (default 127.0.0.1). */
  readonly host?: string
  /** Receives one line per request answered (request-log.ts), for the container's log. */
  readonly log?: (line: string) => void
}

const isHttpOnly = (b: PodBehaviour): boolean => b.kind === 'netexec' || b.kind === 'serve-hostname' || b.kind === 'nginx' || b.kind === 'http-echo'

export function startPodServer(opts: PodServerOptions): Promise<RunningServer> {
  return opts.proto === 'udp' ? startUdp(opts) : startTcp(opts)
}

function handleHttp(opts: PodServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const seen = opts.seen.lookup(req.socket.remoteAddress, req.socket.remotePort)
  const reply = httpReply(opts.behaviour, { method: req.method ?? 'GET', url: req.url ?? '/', seen, headers: req.headers }, opts.pod)
  req.resume()
  res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.body) })
  res.end(req.method === 'HEAD' ? undefined : reply.body)
  opts.log?.(httpRequestLine({ peer: seen, method: req.method ?? 'GET', url: req.url ?? '/', httpVersion: req.httpVersion, status: reply.status, bytes: req.method === 'HEAD' ? 0 : Buffer.byteLength(reply.body), userAgent: req.headers['user-agent'] }))
}

function startTcp(opts: PodServerOptions): Promise<RunningServer> {
  const sockets = new Set<Socket>()
  const http = createHttpServer((req, res) => handleHttp(opts, req, res))
  http.keepAliveTimeout = 5_000
  const httpOnly = isHttpOnly(opts.behaviour)
  const server: Server = httpOnly ? http : createNetServer({ allowHalfOpen: true }, (socket) => sniff(socket, opts, http))
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  })
  return listen(server, opts.host ?? '127.0.0.1', () => {
    for (const s of sockets) s.destroy()
    http.closeAllConnections()
  })
}

/** Default echo: an HTTP request line hands the socket to the HTTP server; anything else is echoed. */
function sniff(socket: Socket, opts: PodServerOptions, http: ReturnType<typeof createHttpServer>): void {
  socket.once('data', (first: Buffer) => {
    socket.pause()
    socket.unshift(first)
    if (looksLikeHttp(first)) {
      http.emit('connection', socket)
      socket.resume()
      return
    }
    const seen = opts.seen.lookup(socket.remoteAddress, socket.remotePort)
    opts.log?.(tcpConnectionLine(seen))
    socket.write(tcpGreeting(seen, opts.pod))
    socket.pipe(socket)
    socket.resume()
  })
}

function listen(server: Server, host: string, destroyAll: () => void): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => {
      server.off('error', reject)
      const addr = server.address()
      if (addr === null || typeof addr === 'string') return reject(new Error('pod server has no address'))
      resolve({
        local: { address: addr.address, port: addr.port },
        close: () => new Promise<void>((done) => {
          server.close(() => done())
          destroyAll()
        }),
      })
    })
  })
}

function startUdp(opts: PodServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1'
  const socket: UdpSocket = createSocket(host.includes(':') ? 'udp6' : 'udp4')
  socket.on('message', (msg, rinfo) => {
    const seen = opts.seen.lookup(rinfo.address, rinfo.port)
    const data = msg.toString('utf8')
    opts.log?.(udpDatagramLine(seen, data))
    const reply = udpReply(opts.behaviour, data, seen, opts.pod)
    if (reply !== undefined) socket.send(reply, rinfo.port, rinfo.address)
  })
  socket.on('error', () => {})
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, host, () => {
      socket.off('error', reject)
      const addr = socket.address()
      resolve({ local: { address: addr.address, port: addr.port }, close: () => new Promise<void>((done) => socket.close(() => done())) })
    })
  })
}
