/**
 * The SOCKS5 entry point on a loopback port: CONNECT and UDP ASSOCIATE, no auth or
 * user/password (the user names the client: see client-identity.ts; the password is ignored).
 * Destinations pass decideDestination first; then the rules decide: REJECT answers
 * "connection refused", DROP never answers, and allowed connections are piped to the pod.
 */
import { listenOn } from '../../net/index.js'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer, type Server, type Socket } from 'node:net'
import { parseProxyUser, resolveClient, type ClientSpec, type PacketSource } from './client-identity.js'
import type { ClusterDataplane } from './cluster-dataplane.js'
import { ConnectionSlots } from './connection-slots.js'
import { decideDestination } from './decide-destination.js'
import {
  encodeReply,
  encodeUdpDatagram,
  parseGreeting,
  parseRequest,
  parseUdpDatagram,
  parseUserPass,
  socksCommand,
  socksMethod,
  socksReply,
  type Parse,
} from './socks5-protocol.js'
import { assertLoopbackTarget, holdConnection, pipeBoth } from './tcp-forward.js'
import { UdpFlowTable } from './udp-flows.js'
import { UdpForwarder } from './udp-forward.js'

export interface Socks5Options {
  readonly host?: string
  readonly port: number
}

export class Socks5Server {
  readonly #dp: ClusterDataplane
  readonly #server: Server
  readonly #udp: UdpForwarder
  readonly #host: string
  /** limits.maxConnections; a client still in its handshake gives its slot up to a newcomer. */
  readonly #slots: ConnectionSlots

  constructor(dp: ClusterDataplane, clock: { now(): number }, host = '127.0.0.1') {
    assertLoopbackTarget(host)
    this.#dp = dp
    this.#host = host
    this.#udp = new UdpForwarder({ idleTimeoutMs: dp.limits.udpIdleTimeoutMs, maxFlows: dp.limits.maxUdpFlows, clock, seen: dp.seen })
    this.#slots = new ConnectionSlots(dp.limits.maxConnections)
    this.#server = createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {})
      if (this.#slots.admit(s)) void this.#session(s)
    })
  }

  listen(port: number): Promise<number> {
    return listenOn(this.#server, port, this.#host)
  }

  close(): void {
    this.#server.close()
    this.#udp.close()
  }

  async #session(s: Socket): Promise<void> {
    const reader = new ChunkReader(s)
    const handshake = setTimeout(() => s.destroy(), this.#dp.limits.headerTimeoutMs)
    try {
      const greeting = await reader.read(parseGreeting)
      let spec: ClientSpec = { kind: 'external', via: undefined }
      if (greeting.methods.includes(socksMethod.userPass)) {
        s.write(Buffer.from([5, socksMethod.userPass]))
        const { user } = await reader.read(parseUserPass)
        const parsed = parseProxyUser(user)
        if (parsed.kind === 'invalid') {
          this.#dp.refused('socks5', `user ${user}`, '-', parsed.reason)
          s.end(Buffer.from([1, 1]))
          return
        }
        spec = parsed
        s.write(Buffer.from([1, 0]))
      } else if (greeting.methods.includes(socksMethod.noAuth)) {
        s.write(Buffer.from([5, socksMethod.noAuth]))
      } else {
        s.end(Buffer.from([5, socksMethod.noneAcceptable]))
        return
      }
      const req = await reader.read(parseRequest)
      clearTimeout(handshake)
      this.#slots.proven(s)
      const client = resolveClient(spec, s.remoteAddress, this.#dp.index, this.#dp.defaultNode)
      if ('error' in client) {
        this.#dp.refused('socks5', s.remoteAddress ?? '?', `${req.address.host}:${req.address.port}`, client.error)
        s.end(encodeReply(socksReply.notAllowed))
        return
      }
      if (req.command === socksCommand.connect) return await this.#connect(s, reader, client, req.address.host, req.address.port)
      if (req.command === socksCommand.udpAssociate) return await this.#associate(s, client)
      s.end(encodeReply(socksReply.commandNotSupported))
    } catch {
      clearTimeout(handshake)
      s.destroy()
    }
  }

  async #connect(s: Socket, reader: ChunkReader, client: PacketSource, host: string, port: number): Promise<void> {
    const dst = decideDestination(host, port, 'tcp', this.#dp.index)
    if (dst.kind === 'refuse') {
      this.#dp.refused('socks5', client.describe, `${host}:${port}`, dst.reason)
      s.end(encodeReply(socksReply.notAllowed))
      return
    }
    const handIn = this.#dp.handInTcp('socks5', client, dst)
    if (handIn) {
      const r = await handIn
      if (r.kind === 'dropped') return holdConnection(s, this.#dp.limits.dropHoldMs)
      if (r.kind !== 'connected') {
        s.end(encodeReply(r.kind === 'unreachable' ? socksReply.hostUnreachable : socksReply.connectionRefused))
        return
      }
      return this.#piped(s, reader, r.socket)
    }
    const d = this.#dp.decide('socks5', client, dst, s.remotePort ?? 0)
    if ('error' in d) {
      s.end(encodeReply(socksReply.generalFailure))
      return
    }
    const r = d.route
    switch (r.kind) {
      case 'reject':
        s.end(encodeReply(socksReply.connectionRefused))
        return
      case 'unreachable':
        s.end(encodeReply(socksReply.hostUnreachable))
        return
      case 'drop':
        holdConnection(s, this.#dp.limits.dropHoldMs)
        return
      case 'forward': {
        let up: Socket
        try {
          up = await this.#dp.openTcp(r, { read: 'reused-buffer' })
        } catch {
          s.end(encodeReply(socksReply.connectionRefused))
          return
        }
        this.#piped(s, reader, up)
      }
    }
  }

  #piped(s: Socket, reader: ChunkReader, up: Socket): void {
    s.write(encodeReply(socksReply.succeeded, up.localAddress ?? '127.0.0.1', up.localPort ?? 0))
    const early = reader.release()
    if (early.length > 0) up.write(early)
    pipeBoth(s, up, this.#dp.limits.idleTimeoutMs)
  }

  /** UDP ASSOCIATE: a relay socket on loopback for this client, alive while the TCP connection is. */
  async #associate(s: Socket, client: PacketSource): Promise<void> {
    const relay: UdpSocket = createSocket(this.#host.includes(':') ? 'udp6' : 'udp4')
    relay.on('error', () => {})
    await new Promise<void>((resolve) => relay.bind(0, this.#host, () => resolve()))
    const peer = (s.remoteAddress ?? '').replace(/^::ffff:/, '')
    const keys = new Set<string>()
    relay.on('message', (msg, rinfo) => {
      if (rinfo.address !== peer) return
      const dg = parseUdpDatagram(msg)
      if (dg.kind === 'error') return
      const dst = decideDestination(dg.address.host, dg.address.port, 'udp', this.#dp.index)
      if (dst.kind === 'refuse') {
        this.#dp.refused('socks5 udp', client.describe, `${dg.address.host}:${dg.address.port}`, dst.reason)
        return
      }
      const key = UdpFlowTable.key(rinfo.address, rinfo.port, dst.ip, dst.port)
      keys.add(key)
      this.#udp.send(key, dg.data, () => this.#dp.decide('socks5 udp', client, dst, rinfo.port), (reply) => {
        relay.send(encodeUdpDatagram(dg.address.host, dg.address.port, reply), rinfo.port, rinfo.address)
      })
    })
    s.write(encodeReply(socksReply.succeeded, this.#host, relay.address().port))
    s.resume()
    s.on('data', () => {})
    s.once('close', () => relay.close())
    s.once('end', () => s.end())
  }
}

/** Reads whole protocol messages from a socket, keeping any bytes that follow them. */
class ChunkReader {
  readonly #s: Socket
  #buf = Buffer.alloc(0)
  #waiter: (() => void) | undefined
  #closed = false
  readonly #onData = (c: Buffer): void => {
    this.#buf = Buffer.concat([this.#buf, c])
    this.#waiter?.()
  }

  constructor(s: Socket) {
    this.#s = s
    s.on('data', this.#onData)
    s.once('close', () => {
      this.#closed = true
      this.#waiter?.()
    })
  }

  async read<T>(parse: (b: Buffer) => Parse<T>): Promise<T> {
    for (;;) {
      const r = parse(this.#buf)
      if (r.kind === 'ok') {
        this.#buf = Buffer.from(r.rest)
        return r.value
      }
      if (r.kind === 'error') throw new Error(r.reason)
      if (this.#closed) throw new Error('closed')
      if (this.#buf.length > 1024) throw new Error('handshake too long')
      await new Promise<void>((resolve) => (this.#waiter = resolve))
      this.#waiter = undefined
    }
  }

  /** Stops reading; returns bytes that arrived after the last message. */
  release(): Buffer {
    this.#s.off('data', this.#onData)
    this.#s.pause()
    const rest = this.#buf
    this.#buf = Buffer.alloc(0)
    return rest
  }
}
