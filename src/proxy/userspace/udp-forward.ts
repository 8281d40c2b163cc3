/**
 * UDP through the rules: the first datagram of a flow asks the dataplane, later ones reuse the
 * flow's loopback socket toward the pod until it idles out (conntrack's UDP timeout). Replies
 * go back through the caller's send function. Sockets bind to 127.0.0.1 and send only to the
 * pod network table's loopback addresses.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import type { SeenSourceTable } from '../../kubelet/index.js'
import type { Decision } from './node-dataplane.js'
import { assertLoopbackTarget } from './tcp-forward.js'
import { UdpFlowTable } from './udp-flows.js'

interface Flow {
  readonly socket: UdpSocket
  readonly ready: Promise<void>
  readonly local: { readonly address: string; readonly port: number }
}

export class UdpForwarder {
  readonly #table: UdpFlowTable<Flow>
  readonly #seen: SeenSourceTable
  readonly #sweep: NodeJS.Timeout

  constructor(opts: { readonly idleTimeoutMs: number; readonly maxFlows: number; readonly clock: { now(): number }; readonly seen: SeenSourceTable }) {
    this.#table = new UdpFlowTable<Flow>(opts)
    this.#seen = opts.seen
    this.#sweep = setInterval(() => {
      for (const f of this.#table.sweep()) this.#close(f)
    }, Math.max(250, Math.min(opts.idleTimeoutMs / 2, 5_000)))
    this.#sweep.unref()
  }

  get flows(): number {
    return this.#table.size
  }

  /**
   * One datagram from a client. `decide` runs only for a new flow; `reply` sends an answer back
   * to that client. Datagrams of rejected or dropped flows vanish (there is no ICMP here).
   */
  send(key: string, payload: Buffer, decide: () => Pick<Decision, 'route'> | { readonly error: string }, reply: (data: Buffer) => void): void {
    let flow = this.#table.get(key)
    if (!flow) {
      const d = decide()
      if ('error' in d || d.route.kind !== 'forward') return
      const route = d.route
      assertLoopbackTarget(route.local.address)
      const socket = createSocket(route.local.address.includes(':') ? 'udp6' : 'udp4')
      socket.on('error', () => {})
      const ready = new Promise<void>((resolve) => socket.bind(0, route.local.address.includes(':') ? '::1' : '127.0.0.1', () => {
        const a = socket.address()
        this.#seen.record(a.address, a.port, route.seen)
        resolve()
      }))
      flow = { socket, ready, local: route.local }
      if (!this.#table.add(key, flow)) {
        socket.close()
        return
      }
      socket.on('message', (msg) => {
        this.#table.touch(key)
        reply(msg)
      })
    }
    const f = flow
    void f.ready.then(() => f.socket.send(payload, f.local.port, f.local.address))
  }

  close(): void {
    clearInterval(this.#sweep)
    for (const f of this.#table.drain()) this.#close(f)
  }

  #close(f: Flow): void {
    try {
      const a = f.socket.address()
      this.#seen.forget(a.address, a.port)
    } catch {
      // not bound yet
    }
    f.socket.close()
  }
}
