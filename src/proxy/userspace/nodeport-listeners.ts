/**
 * NodePort entry points: every NodePort listens on each node's loopback node address (127.0.10.1,
 * .2, ... by default), and a connection there enters that node with that node's rules, as if an
 * external host had connected to the node's InternalIP. TCP and UDP; loopback only. Each TCP
 * listener holds at most limits.maxConnections; connections that never carry a byte lose their
 * slot to newcomers (connection-slots.ts) and are closed after limits.headerTimeoutMs.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer, type Server, type Socket } from 'node:net'
import type { L4Proto } from '../../net/index.js'
import { externalClientAddress, type PacketSource } from './client-identity.js'
import type { Allowed, ClusterDataplane } from './cluster-dataplane.js'
import { ConnectionSlots } from './connection-slots.js'
import { assertLoopbackTarget, holdConnection, pipeBoth, resetConnection } from './tcp-forward.js'
import { UdpFlowTable } from './udp-flows.js'
import { UdpForwarder } from './udp-forward.js'
import type { HandInPortResult } from './kernel-hand-in-port.js'

export interface NodeLoopback {
  readonly node: string
  /** The loopback address standing for this node's address, e.g. 127.0.10.2. */
  readonly address: string
}

export interface NodePortSpec {
  readonly port: number
  readonly proto: L4Proto
}

type Listener = { readonly kind: 'tcp'; readonly server: Server } | { readonly kind: 'udp'; readonly socket: UdpSocket }

export class NodePortListeners {
  readonly #dp: ClusterDataplane
  readonly #nodes: readonly NodeLoopback[]
  readonly #listeners = new Map<string, Listener>()
  readonly #udp: UdpForwarder
  readonly #onError: (line: string) => void

  constructor(dp: ClusterDataplane, nodes: readonly NodeLoopback[], clock: { now(): number }, onError: (line: string) => void = () => {}) {
    for (const n of nodes) assertLoopbackTarget(n.address)
    this.#dp = dp
    this.#nodes = nodes
    this.#onError = onError
    this.#udp = new UdpForwarder({ idleTimeoutMs: dp.limits.udpIdleTimeoutMs, maxFlows: dp.limits.maxUdpFlows, clock, seen: dp.seen })
  }

  /** Listens on exactly the given NodePorts (on every node address); stops the others. */
  async reconcile(ports: readonly NodePortSpec[]): Promise<void> {
    const want = new Map<string, { node: NodeLoopback; port: NodePortSpec }>()
    for (const node of this.#nodes) for (const p of ports) want.set(`${node.address}:${p.port}/${p.proto}`, { node, port: p })
    for (const [key, l] of [...this.#listeners]) {
      if (!want.has(key)) {
        this.#listeners.delete(key)
        closeListener(l)
      }
    }
    for (const [key, { node, port }] of want) {
      if (this.#listeners.has(key)) continue
      try {
        this.#listeners.set(key, port.proto === 'udp' ? await this.#listenUdp(node, port.port) : await this.#listenTcp(node, port.port))
      } catch (e) {
        this.#onError(`NodePort ${node.address}:${port.port}/${port.proto} (${node.node}): ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  }

  listening(): string[] {
    return [...this.#listeners.keys()].sort()
  }

  close(): void {
    for (const l of this.#listeners.values()) closeListener(l)
    this.#listeners.clear()
    this.#udp.close()
  }

  #target(node: NodeLoopback, port: number, proto: L4Proto): Allowed | undefined {
    const ip = this.#dp.index.nodeIPs.get(node.node)
    return ip === undefined ? undefined : { kind: 'allow', ip, port, proto, addressKind: 'node-ip', owner: node.node, describe: `node ${node.node} (${ip})` }
  }

  #client(node: NodeLoopback, peer: string | undefined): PacketSource {
    const src = externalClientAddress(peer)
    return { src, origin: 'external', node: node.node, describe: `external host ${src}` }
  }

  #listenTcp(node: NodeLoopback, port: number): Promise<Listener> {
    const slots = new ConnectionSlots(this.#dp.limits.maxConnections)
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      socket.on('error', () => {})
      if (slots.admit(socket)) void this.#onTcp(node, port, socket, slots)
    })
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, node.address, () => {
        server.off('error', reject)
        resolve({ kind: 'tcp', server })
      })
    })
  }

  async #onTcp(node: NodeLoopback, port: number, socket: Socket, slots: ConnectionSlots): Promise<void> {
    const dst = this.#target(node, port, 'tcp')
    if (!dst) return resetConnection(socket)
    const handIn = this.#dp.handInTcp(`nodeport ${node.address}:${port}`, this.#client(node, socket.remoteAddress), dst)
    if (handIn) return this.#handedIn(await handIn, socket, slots)
    const d = this.#dp.decide(`nodeport ${node.address}:${port}`, this.#client(node, socket.remoteAddress), dst, socket.remotePort ?? 0)
    if ('error' in d) return resetConnection(socket)
    const r = d.route
    switch (r.kind) {
      case 'forward': {
        let upstream: Socket
        try {
          upstream = await this.#dp.openTcp(r, { read: 'reused-buffer' })
        } catch {
          return resetConnection(socket)
        }
        // pipeBoth starts reading both sockets (the listener paused this one on connect).
        const { idleTimeoutMs, headerTimeoutMs } = this.#dp.limits
        pipeBoth(socket, upstream, idleTimeoutMs, { firstByteTimeoutMs: headerTimeoutMs, onFirstByte: () => slots.proven(socket) })
        return
      }
      case 'drop':
        return holdConnection(socket, this.#dp.limits.dropHoldMs)
      case 'reject':
      case 'unreachable':
        return resetConnection(socket)
    }
  }

  /** The kernel's answer through the hand-in hop, carried back to the client. */
  #handedIn(r: HandInPortResult, socket: Socket, slots: ConnectionSlots): void {
    // The hop's SYN went unanswered: the client, too, gets no answer (as the userspace path holds a DROP).
    if (r.kind === 'dropped') return holdConnection(socket, this.#dp.limits.dropHoldMs)
    if (r.kind !== 'connected') return resetConnection(socket)
    const { idleTimeoutMs, headerTimeoutMs } = this.#dp.limits
    pipeBoth(socket, r.socket, idleTimeoutMs, { firstByteTimeoutMs: headerTimeoutMs, onFirstByte: () => slots.proven(socket) })
  }

  #listenUdp(node: NodeLoopback, port: number): Promise<Listener> {
    const socket = createSocket('udp4')
    socket.on('message', (msg, rinfo) => {
      const dst = this.#target(node, port, 'udp')
      if (!dst) return
      const key = UdpFlowTable.key(rinfo.address, rinfo.port, dst.ip, port)
      this.#udp.send(key, msg, () => this.#dp.decide(`nodeport ${node.address}:${port}/udp`, this.#client(node, rinfo.address), dst, rinfo.port), (reply) => socket.send(reply, rinfo.port, rinfo.address))
    })
    return new Promise((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(port, node.address, () => {
        socket.off('error', reject)
        socket.on('error', () => {})
        resolve({ kind: 'udp', socket })
      })
    })
  }
}

function closeListener(l: Listener): void {
  if (l.kind === 'tcp') l.server.close()
  else l.socket.close()
}
