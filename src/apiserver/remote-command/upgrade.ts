/**
 * The pods/NAME/exec and pods/NAME/attach upgrades, over the two transports clients use:
 * WebSocket (kubectl 1.30+ tries `v5.channel.k8s.io` first; the Python client offers
 * `v4.channel.k8s.io`) and `Upgrade: SPDY/3.1` with `X-Stream-Protocol-Version:
 * v4.channel.k8s.io` (kubectl's fallback). Everything that can be refused is refused before the
 * handshake, as a Status.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { Pod } from '../../api/index.js'
import { ApiError } from '../api-error.js'
import { refuseUnreachableKubelet } from '../kubelet-dial.js'
import { headerList } from '../port-forward-upgrade.js'
import { parseRemoteCommandOptions, type RemoteCommandKind } from './options.js'
import { runRemoteCommand, type RemoteCommandBackend, type RemoteCommandStreams } from './session.js'
import { serveSpdyRemoteCommand } from './spdy-transport.js'
import { serveWebSocketRemoteCommand, webSocketChannelProtocols } from './websocket-transport.js'

export const spdyChannelProtocol = 'v4.channel.k8s.io'
const spdyUpgrade = 'SPDY/3.1'

export interface RemoteCommandRequest {
  readonly kind: RemoteCommandKind
  readonly namespace: string
  readonly name: string
  readonly params: URLSearchParams
  readonly pod: () => Pod | undefined
  readonly backend: RemoteCommandBackend | undefined
}

/** Accepts exec/attach upgrades and remembers the connections, so closeAll() can end them. */
export class RemoteCommandUpgrader {
  readonly #wss = new WebSocketServer({
    noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024,
    handleProtocols: (offered) => [...offered].find((p) => (webSocketChannelProtocols as readonly string[]).includes(p)) ?? false,
  })
  readonly #live = new Set<Duplex>()
  readonly #log: ((line: string) => void) | undefined

  constructor(log?: (line: string) => void) {
    this.#log = log
  }

  /** Throws an ApiError before anything is written when the request cannot be served. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, r: RemoteCommandRequest): void {
    const pod = r.pod()
    if (!pod) throw new ApiError(404, 'NotFound', `pods "${r.name}" not found`, { name: r.name, kind: 'pods' })
    const options = parseRemoteCommandOptions(r.kind, r.params, pod)
    const backend = r.backend
    if (!backend) throw new ApiError(503, 'ServiceUnavailable', `no node agents are attached to this API server: ${r.kind} needs \`kpe up\` (not --control-plane-only)`)
    if (pod.status?.phase !== 'Running') throw new ApiError(400, 'BadRequest', `unable to upgrade connection: pod ${r.name} is not running (phase ${pod.status?.phase ?? 'Pending'})`)
    refuseUnreachableKubelet(backend, pod)
    const target = { pod, namespace: r.namespace, name: r.name, container: options.container }
    const run = (streams: RemoteCommandStreams) => runRemoteCommand(backend, target, options, streams)
    this.#live.add(socket)
    socket.once('close', () => this.#live.delete(socket))
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase()
    if (upgrade === 'websocket') {
      const offered = headerList(req.headers['sec-websocket-protocol'])
      if (!offered.some((p) => (webSocketChannelProtocols as readonly string[]).includes(p))) {
        throw new ApiError(400, 'BadRequest', `unable to upgrade connection: ${r.kind} over WebSocket needs one of the subprotocols ${webSocketChannelProtocols.join(', ')} (offered: ${offered.join(', ') || 'none'})`)
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => serveWebSocketRemoteCommand(ws, { options, protocol: ws.protocol, run }))
      return
    }
    if (upgrade !== spdyUpgrade.toLowerCase()) throw new ApiError(400, 'BadRequest', `unsupported upgrade ${JSON.stringify(req.headers.upgrade ?? '')}: use WebSocket or ${spdyUpgrade}`)
    const offered = headerList(req.headers['x-stream-protocol-version'])
    if (!offered.includes(spdyChannelProtocol)) {
      throw new ApiError(403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ["${spdyChannelProtocol}"]`)
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${spdyUpgrade}\r\nX-Stream-Protocol-Version: ${spdyChannelProtocol}\r\n\r\n`)
    if (head.length > 0) socket.unshift(head)
    serveSpdyRemoteCommand(socket, { options, run, ...(this.#log ? { log: this.#log } : {}) })
  }

  closeAll(): void {
    for (const c of this.#wss.clients) c.terminate()
    for (const t of this.#live) t.destroy()
    this.#live.clear()
  }
}
