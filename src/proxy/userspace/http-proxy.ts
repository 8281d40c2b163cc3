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
import { ForwardConnection } from './http-forward-connection.js'
import { listenOn } from './listen.js'
import { assertLoopbackTarget } from './tcp-forward.js'

export class HttpProxyServer {
  readonly #server: Server
  readonly #host: string
  readonly #sockets = new Set<Socket>()

  constructor(dp: ClusterDataplane, host = '127.0.0.1') {
    assertLoopbackTarget(host)
    this.#host = host
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
      new ForwardConnection(dp, socket)
    })
    this.#server.maxConnections = dp.limits.maxConnections
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
