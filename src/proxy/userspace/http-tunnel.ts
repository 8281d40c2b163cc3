/**
 * Tunnels on the forward proxy: after CONNECT (answered 200) or a 101 Switching Protocols, the
 * client connection carries raw bytes both ways to one pod (pipeBoth). CONNECT's HOST:PORT passes
 * the same gate as any request. The caller has let go of the sockets.
 */
import type { Socket } from 'node:net'
import type { ClusterDataplane } from './cluster-dataplane.js'
import { admitRequest, type ClientPeer } from './http-connection-pins.js'
import type { RequestHead } from './http-framing.js'
import { holdConnection, pipeBoth } from './tcp-forward.js'

/** CONNECT's request-target: authority-form, `host:port` or `[v6]:port`. */
function splitHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s)
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined
}

/**
 * Answers a CONNECT request on `socket`: a tunnel to the pod, or an error answer that closes the
 * connection; DROP holds it without an answer. `rest` is what the client sent after the head;
 * `peer` is the client's address as seen when it connected.
 */
export async function openConnectTunnel(dp: ClusterDataplane, socket: Socket, peer: ClientPeer, head: RequestHead, auth: string | undefined, rest: Buffer): Promise<void> {
  const fail = (status: string, text: string): void => {
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nkpe http proxy: ${text}\n`)
  }
  const target = splitHostPort(head.target)
  if (!target) return fail('400 Bad Request', 'CONNECT needs HOST:PORT')
  const a = admitRequest(dp, peer.address, auth, target.host, target.port, { entry: 'http proxy connect', destination: head.target, index: dp.index })
  if (a.kind === 'refused') return fail('403 Forbidden', a.text)
  const handIn = dp.handInTcp('http proxy connect', a.client, a.dst)
  if (handIn) {
    // The kernel dataplane: the node's kernel decides; the hop logs the connection.
    const h = await handIn
    if (h.kind === 'dropped') return holdConnection(socket, dp.limits.dropHoldMs)
    if (h.kind !== 'connected') return fail('502 Bad Gateway', h.kind === 'refused' ? `connection refused: ${h.reason}` : h.reason)
    if (socket.destroyed) return void h.socket.destroy()
    return openTunnel(socket, h.socket, Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n'), rest, { idleTimeoutMs: dp.limits.idleTimeoutMs, hasClientEnded: false })
  }
  const d = dp.decide('http proxy connect', a.client, a.dst, peer.port)
  if ('error' in d) return fail('502 Bad Gateway', d.error)
  const r = d.route
  switch (r.kind) {
    case 'drop':
      return holdConnection(socket, dp.limits.dropHoldMs)
    case 'reject':
      return fail('502 Bad Gateway', `connection refused: ${r.reason}`)
    case 'unreachable':
      return fail('502 Bad Gateway', r.reason)
    case 'forward': {
      let up: Socket
      try {
        up = await dp.openTcp(r, { read: 'reused-buffer' })
      } catch (e) {
        return fail('502 Bad Gateway', e instanceof Error ? e.message : String(e))
      }
      if (socket.destroyed) return void up.destroy()
      openTunnel(socket, up, Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n'), rest, { idleTimeoutMs: dp.limits.idleTimeoutMs, hasClientEnded: false })
    }
  }
}

/**
 * Bytes already owed each way go first, then a pipe: after CONNECT, `toClient` is the 200 and
 * `toPod` what the client sent after the head; after a 101, `toClient` is what the pod sent from
 * the 101 on (with any earlier responses in the same read) and `toPod` what the client sent after
 * the Upgrade request. A FIN the client already sent travels on to the pod.
 */
export function openTunnel(client: Socket, pod: Socket, toClient: Buffer, toPod: Buffer, o: { readonly idleTimeoutMs: number; readonly hasClientEnded: boolean }): void {
  client.write(toClient)
  if (toPod.length > 0) pod.write(toPod)
  pipeBoth(client, pod, o.idleTimeoutMs)
  if (o.hasClientEnded) pod.end()
}
