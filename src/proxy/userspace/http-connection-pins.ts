/**
 * Where a forward-proxy request goes: client (Proxy-Authorization) and destination are checked,
 * then the rules decide once per (client, destination), and that decision and its keep-alive pod
 * link stay pinned for the client connection's life, as conntrack pins a connection. With the
 * kernel dataplane the link is opened through the hand-in hop instead, and the kernel decides.
 */
import type { Socket } from 'node:net'
import { parseProxyUser, resolveClient, type PacketSource } from './client-identity.js'
import type { Allowed, ClusterDataplane } from './cluster-dataplane.js'
import type { ClusterIndex } from './cluster-index.js'
import { decideDestination } from './decide-destination.js'
import { fieldValue, splitAbsoluteTarget, type RequestHead } from './http-framing.js'
import { ResponseStream } from './http-response-stream.js'
import type { HandInPortResult } from './kernel-hand-in-port.js'
import type { RouteDecision } from './route-decision.js'

/**
 * Where a pod link goes: the interpreter's decision, or (kernel dataplane) a connection the
 * hand-in hop opens when the first request needs it, whose route only the kernel knows.
 */
export type LinkRoute = RouteDecision | { readonly kind: 'hand-in'; readonly open: () => Promise<HandInPortResult> }

/** A pod connection pinned for one destination of a client connection. */
export class PodLink {
  socket: Socket | undefined
  connecting = false
  /** Bytes written before the socket connected. */
  queued: Buffer[] = []
  /** The requests sent on this link whose responses have not ended, and those responses' framing. */
  readonly responses = new ResponseStream()
  /** Bytes of the current response already passed to the client. */
  started = false
  /** Reading stopped until the client's socket has taken what was written to it. */
  readPaused = false

  constructor(readonly key: string, readonly route: LinkRoute, readonly describe: string) {}
}

/** The client end of a connection to the proxy, read once when it connected. */
export interface ClientPeer {
  readonly address: string | undefined
  readonly port: number
}

/** Who may go where: the proxy's own refusal (answered 400 or 403), or the client and destination the rules decide on. */
export type Admission =
  | { readonly kind: 'admitted'; readonly client: PacketSource; readonly dst: Allowed }
  | { readonly kind: 'refused'; readonly status: 400 | 403; readonly text: string }

/** The user name in a Basic Proxy-Authorization value; undefined without one. */
function basicUser(value: string | undefined): string | undefined {
  const m = value === undefined ? null : /^Basic\s+(\S+)$/i.exec(value)
  if (!m) return undefined
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  return i < 0 ? decoded : decoded.slice(0, i)
}

/**
 * The client named by Proxy-Authorization (client-identity.ts), then the destination gate
 * (decide-destination.ts); a refused destination is logged under `entry` as `destination`.
 */
export function admitRequest(dp: ClusterDataplane, peerAddress: string | undefined, auth: string | undefined, host: string, port: number, o: { entry: string; destination: string; index: ClusterIndex }): Admission {
  const spec = parseProxyUser(basicUser(auth))
  if (spec.kind === 'invalid') return { kind: 'refused', status: 403, text: spec.reason }
  const client = resolveClient(spec, peerAddress, o.index, dp.defaultNode)
  if ('error' in client) return { kind: 'refused', status: 403, text: client.error }
  const dst = decideDestination(host, port, 'tcp', o.index)
  if (dst.kind === 'refuse') {
    dp.refused(o.entry, client.describe, o.destination, dst.reason)
    return { kind: 'refused', status: 403, text: `refused ${o.destination}: ${dst.reason}` }
  }
  return { kind: 'admitted', client, dst }
}

/** What to do with one request. */
export type RequestAction =
  /** To the pod link, with the head rewritten to `originForm` and `Host: authority`. */
  | { readonly kind: 'forward'; readonly link: PodLink; readonly originForm: string; readonly authority: string }
  /** The proxy answers itself; `refused`: the proxy's own refusal, not the rules' (x-kpe-proxy: refused). */
  | { readonly kind: 'local'; readonly status: number; readonly text: string; readonly refused: boolean }
  /** The rules DROP: the connection is held without an answer. */
  | { readonly kind: 'drop' }
  | { readonly kind: 'connect' }

export type Pin = { readonly kind: 'pinned'; readonly link: PodLink } | Extract<Admission, { kind: 'refused' }>

/** The pod links of one client connection, one per (client source, destination). */
export class ConnectionPins {
  readonly #dp: ClusterDataplane
  readonly #peer: ClientPeer
  readonly #links = new Map<string, PodLink>()
  /** The last request's pin: keep-alive requests to the same authority skip URL parsing and the gate. */
  #last: { auth: string | undefined; authority: string; index: ClusterIndex; pin: Pin } | undefined

  constructor(dp: ClusterDataplane, peer: ClientPeer) {
    this.#dp = dp
    this.#peer = peer
  }

  /** The destination of one request: checked, then pinned per (client, destination) like a conntrack entry. */
  route(head: RequestHead): RequestAction {
    if (head.method === 'CONNECT') return { kind: 'connect' }
    const target = splitAbsoluteTarget(head.target)
    if (!target) return refusal(400, 'an absolute URI (http://HOST/PATH) is required: this is a forward proxy')
    if (target.scheme !== 'http') return refusal(400, `${target.scheme}: URLs are forwarded only through CONNECT`)
    const pin = this.pin(target.authority, fieldValue(head, 'proxy-authorization'))
    if (pin.kind === 'refused') return refusal(pin.status, pin.text)
    const link = pin.link
    const r = link.route
    switch (r.kind) {
      case 'forward':
      case 'hand-in':
        return { kind: 'forward', link, originForm: target.originForm, authority: target.authority }
      case 'drop':
        return { kind: 'drop' }
      case 'reject':
        return { kind: 'local', status: 502, text: `connection to ${link.describe} refused: ${r.reason}`, refused: false }
      case 'unreachable':
        return { kind: 'local', status: 502, text: `${link.describe} unreachable: ${r.reason}`, refused: false }
    }
  }

  /** The link for a request to `authority` (from an absolute URI) with this Proxy-Authorization. */
  pin(authority: string, auth: string | undefined): Pin {
    const index = this.#dp.index
    const last = this.#last
    // A new cluster index (a Service changed) checks the destination again; a pinned decision stays.
    if (last && last.auth === auth && last.authority === authority && last.index === index) return last.pin
    let url: URL
    try {
      url = new URL(`http://${authority}/`)
    } catch {
      return { kind: 'refused', status: 400, text: `invalid host "${authority}"` }
    }
    const port = url.port === '' ? 80 : Number(url.port)
    const a = admitRequest(this.#dp, this.#peer.address, auth, url.hostname, port, { entry: 'http proxy', destination: `${url.hostname}:${port}`, index })
    if (a.kind === 'refused') return a
    const key = `${a.client.src}>${a.dst.ip}:${port}`
    let link = this.#links.get(key)
    if (!link) {
      link = new PodLink(key, this.#linkRoute(a), `${a.dst.ip}:${port}`)
      this.#links.set(key, link)
    }
    const pin: Pin = { kind: 'pinned', link }
    this.#last = { auth, authority, index, pin }
    return pin
  }

  #linkRoute(a: Extract<Admission, { kind: 'admitted' }>): LinkRoute {
    const dp = this.#dp
    // One hop connection per link, as one kernel connection (and conntrack entry) per pinned link.
    if (dp.handsIn) return { kind: 'hand-in', open: () => dp.handInTcp('http proxy', a.client, a.dst)! }
    const d = dp.decide('http proxy', a.client, a.dst, this.#peer.port)
    return 'error' in d ? { kind: 'unreachable', reason: d.error } : d.route
  }

  links(): IterableIterator<PodLink> {
    return this.#links.values()
  }

  /** Forgets every link (the client connection was handed over); their sockets are the caller's to close. */
  clear(): void {
    this.#links.clear()
  }
}

function refusal(status: number, text: string): RequestAction {
  return { kind: 'local', status, text, refused: true }
}
