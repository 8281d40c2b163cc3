/**
 * The `pods/NAME/portforward` subresource's two transports, as kubectl 1.32 tries them
 * (../shared/KUBECTL-COMPAT.md section 3.8):
 * - WebSocket with subprotocol `SPDY/3.1+portforward.k8s.io`: the SPDY byte stream travels in
 *   binary messages (kube-apiserver's stream tunnel).
 * - `Upgrade: SPDY/3.1` with `X-Stream-Protocol-Version: portforward.k8s.io`: plain SPDY.
 * `ws` rejects that subprotocol ('/' is not a token character), so the header is taken off the
 * request before the handshake and the answer is added in the `headers` event.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { createWebSocketStream, WebSocketServer } from 'ws'
import type { Pod } from '../api/index.js'
import { ApiError } from './api-error.js'
import { refuseUnreachableKubelet } from './kubelet-dial.js'
import { servePortForward, type PortForwardBackend } from './port-forward.js'

export const portForwardProtocol = 'portforward.k8s.io'
export const portForwardWebSocketProtocol = `SPDY/3.1+${portForwardProtocol}`
const spdyUpgrade = 'SPDY/3.1'

export interface PortForwardRequest {
  readonly namespace: string
  readonly name: string
  readonly pod: () => Pod | undefined
  readonly backend: PortForwardBackend | undefined
}

export function headerList(value: string | string[] | undefined): string[] {
  return (Array.isArray(value) ? value : [value ?? '']).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '')
}

/** Accepts port-forward upgrades and remembers the connections, so close() can end them. */
export class PortForwardUpgrader {
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  readonly #wsProtocol = new WeakSet<IncomingMessage>()
  readonly #live = new Set<Duplex>()
  readonly #log: ((line: string) => void) | undefined

  constructor(log?: (line: string) => void) {
    this.#log = log
    this.#wss.on('headers', (headers: string[], req: IncomingMessage) => {
      if (this.#wsProtocol.has(req)) headers.push(`Sec-WebSocket-Protocol: ${portForwardWebSocketProtocol}`)
    })
  }

  /** Throws an ApiError before anything is written when the request cannot be served. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, r: PortForwardRequest): void {
    const pod = r.pod()
    if (!pod) throw new ApiError(404, 'NotFound', `pods "${r.name}" not found`, { name: r.name, kind: 'pods' })
    const backend = r.backend
    if (!backend) throw new ApiError(503, 'ServiceUnavailable', 'no node agents are attached to this API server: port-forward needs `kpe up` (not --control-plane-only)')
    refuseUnreachableKubelet(backend, pod)
    const serve = (transport: Duplex): void => {
      this.#live.add(transport)
      transport.once('close', () => this.#live.delete(transport))
      servePortForward(transport, { backend, pod: r.pod, ...(this.#log ? { log: this.#log } : {}) })
    }
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase()
    if (upgrade === 'websocket') {
      if (!headerList(req.headers['sec-websocket-protocol']).includes(portForwardWebSocketProtocol)) {
        throw new ApiError(400, 'BadRequest', `port-forward over WebSocket needs the subprotocol ${portForwardWebSocketProtocol}`)
      }
      delete req.headers['sec-websocket-protocol']
      this.#wsProtocol.add(req)
      this.#wss.handleUpgrade(req, socket, head, (ws) => serve(createWebSocketStream(ws)))
      return
    }
    if (upgrade !== spdyUpgrade.toLowerCase()) throw new ApiError(400, 'BadRequest', `unsupported upgrade ${JSON.stringify(req.headers.upgrade ?? '')}: use WebSocket or ${spdyUpgrade}`)
    // httpstream.Handshake: a client that names protocols must name ours; one that names none gets the legacy default.
    const offered = headerList(req.headers['x-stream-protocol-version'])
    if (offered.length > 0 && !offered.includes(portForwardProtocol)) {
      throw new ApiError(403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ["${portForwardProtocol}"]`)
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${spdyUpgrade}\r\nX-Stream-Protocol-Version: ${portForwardProtocol}\r\n\r\n`)
    if (head.length > 0) socket.unshift(head)
    serve(socket)
  }

  closeAll(): void {
    for (const c of this.#wss.clients) c.terminate()
    for (const t of this.#live) t.destroy()
    this.#live.clear()
  }
}
