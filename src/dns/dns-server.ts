/**
 * The DNS server shell: one UDP socket and one TCP listener (RFC 7766: two-byte length prefix,
 * several queries per connection) on the same loopback port, answering from whatever zone
 * `zone()` returns at the time. Bounded: connections, idle time and message size.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer, type Server, type Socket } from 'node:net'
import { listenOn } from '../net/index.js'
import { respondToQuery } from './dns-message.js'
import type { DnsZone } from './dns-zone.js'

export interface DnsServerOptions {
  readonly host: string
  readonly zone: () => DnsZone
  readonly maxConnections?: number
  readonly idleTimeoutMs?: number
  readonly log?: (line: string) => void
}

export interface DnsServerAddress {
  readonly host: string
  readonly port: number
}

export class DnsServer {
  readonly #o: DnsServerOptions
  #udp: UdpSocket | undefined
  #tcp: Server | undefined
  readonly #conns = new Set<Socket>()

  constructor(opts: DnsServerOptions) {
    this.#o = opts
  }

  /** Binds TCP first (port 0 picks one), then UDP on the same port; resolves with it. */
  async listen(port: number): Promise<DnsServerAddress> {
    const tcp = createServer((s) => this.#serveTcp(s))
    tcp.maxConnections = this.#o.maxConnections ?? 256
    const bound = await listenOn(tcp, port, this.#o.host)
    this.#tcp = tcp
    try {
      this.#udp = await this.#bindUdp(bound)
    } catch (err) {
      tcp.close()
      this.#tcp = undefined
      throw err
    }
    return { host: this.#o.host, port: bound }
  }

  close(): void {
    this.#udp?.close()
    this.#tcp?.close()
    for (const s of this.#conns) s.destroy()
    this.#udp = undefined
    this.#tcp = undefined
  }

  #bindUdp(port: number): Promise<UdpSocket> {
    const udp = createSocket(this.#o.host.includes(':') ? 'udp6' : 'udp4')
    return new Promise((resolve, reject) => {
      udp.once('error', reject)
      udp.bind(port, this.#o.host, () => {
        udp.off('error', reject)
        udp.on('error', (err) => this.#o.log?.(`dns: udp: ${err.message}`))
        udp.on('message', (msg, rinfo) => {
          const reply = this.#answer(msg, 'udp')
          if (reply) udp.send(reply, rinfo.port, rinfo.address)
        })
        resolve(udp)
      })
    })
  }

  #answer(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    return respondToQuery(msg, this.#o.zone(), transport)
  }

  #serveTcp(s: Socket): void {
    this.#conns.add(s)
    s.on('close', () => this.#conns.delete(s))
    s.on('error', () => s.destroy())
    s.setTimeout(this.#o.idleTimeoutMs ?? 10_000, () => s.destroy())
    let buffered = Buffer.alloc(0)
    s.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      // Each message is a two-byte length and that many bytes; answered in order.
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0)
        if (buffered.length < 2 + length) break
        const msg = buffered.subarray(2, 2 + length)
        buffered = buffered.subarray(2 + length)
        const reply = this.#answer(msg, 'tcp')
        if (!reply) continue
        const prefix = Buffer.alloc(2)
        prefix.writeUInt16BE(reply.length)
        s.write(Buffer.concat([prefix, reply]))
      }
    })
  }
}
