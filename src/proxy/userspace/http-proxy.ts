/**
 * The HTTP forward-proxy entry point on a loopback port: absolute-URI requests and CONNECT.
 * Proxy-Authorization's user names the client (client-identity.ts). Each client connection
 * keeps one decision and one keep-alive pod connection per destination, as conntrack pins a
 * connection; refusals answer 403, REJECT and unreachable 502, DROP never answers. Requests are
 * carried at L4 (http-forward-connection.ts): only heads are read, bodies and responses pass as
 * bytes.
 */
import { createServer, type Server, type Socket } from 'node:net'
import type { ClusterDataplane } from './cluster-dataplane.js'
import { ConnectionSlots } from './connection-slots.js'
import { ForwardConnection } from './http-forward-connection.js'
import { listenOn } from '../../net/index.js'
import { assertLoopbackTarget } from './tcp-forward.js'

export class HttpProxyServer {
  readonly #server: Server
  readonly #host: string
  readonly #sockets = new Set<Socket>()

  constructor(dp: ClusterDataplane, host = '127.0.0.1') {
    assertLoopbackTarget(host)
    this.#host = host
    // limits.maxConnections; a connection that has not sent a byte yet gives its slot up to a newcomer.
    const slots = new ConnectionSlots(dp.limits.maxConnections)
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      socket.on('error', () => {})
      if (!slots.admit(socket)) return
      socket.once('data', () => slots.proven(socket))
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
      new ForwardConnection(dp, socket)
    })
  }

  listen(port: number): Promise<number> {
    return listenOn(this.#server, port, this.#host)
  }

  close(): void {
    this.#server.close()
    for (const s of this.#sockets) s.destroy()
    this.#sockets.clear()
  }
}
