/**
 * One client connection of the HTTP forward proxy, carried at L4. Each request head is read far
 * enough to pick its destination (absolute URI, Proxy-Authorization) and its body framing; the
 * request line is rewritten to origin-form, the proxy's own fields are dropped, and the rest
 * passes as raw bytes to the pod connection pinned for that destination, as conntrack pins a
 * connection. Responses pass back unchanged; their framing is followed only to know when a pod
 * has answered everything it was sent, so that a request for another destination (or the
 * proxy's own answer) waits its turn and responses stay in request order (keep-alive,
 * pipelining). A 101 or CONNECT turns the connection into a tunnel.
 */
import type { Socket } from 'node:net'
import { parseProxyUser, resolveClient, type PacketSource } from './client-identity.js'
import type { ClusterDataplane } from './cluster-dataplane.js'
import type { ClusterIndex } from './cluster-index.js'
import { decideDestination } from './decide-destination.js'
import { BodyCursor, parseRequestHead, parseResponseHead, responseBody, splitAbsoluteTarget, type RequestHead } from './http-framing.js'
import type { RouteDecision } from './route-decision.js'
import { holdConnection, pipeBoth, readInto } from './tcp-forward.js'

/** Node's default limit for a head (--max-http-header-size). */
const maxHeadBytes = 16 * 1024
/** How long an idle keep-alive client connection stays open (node:http's default). */
const keepAliveMs = 5_000

const statusText: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 501: 'Not Implemented', 502: 'Bad Gateway' }

/** A pod connection pinned for one destination of this client connection. */
class PodLink {
  socket: Socket | undefined
  connecting = false
  /** Bytes written before the socket connected. */
  queued: Buffer[] = []
  /** Requests sent whose responses have not ended, and their methods (HEAD has no body). */
  pending = 0
  readonly methods: string[] = []
  /** A response head split over reads (copied: reads land in a reused buffer). */
  head: Buffer | undefined
  body: BodyCursor | undefined
  /** Bytes of the current response already passed to the client. */
  started = false
  bodyUntilClose = false
  /** Reading stopped until the client's socket has taken what was written to it. */
  readPaused = false

  constructor(readonly key: string, readonly route: RouteDecision, readonly describe: string) {}
}

/** A parsed request and what to do with it (kept while it waits for its turn). */
interface Turn {
  readonly head: RequestHead
  readonly length: number
  readonly action: Action
  readonly originForm: string
  readonly authority: string
}

type Action =
  | { readonly kind: 'forward'; readonly link: PodLink }
  | { readonly kind: 'local'; readonly status: number; readonly text: string; readonly refused: boolean }
  | { readonly kind: 'drop' }
  | { readonly kind: 'connect' }

function basicUser(value: string | undefined): string | undefined {
  const m = value === undefined ? null : /^Basic\s+(\S+)$/i.exec(value)
  if (!m) return undefined
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  return i < 0 ? decoded : decoded.slice(0, i)
}

function splitHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s)
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined
}

function fieldValue(head: RequestHead, name: string): string | undefined {
  for (const f of head.fields) if (f.name === name) return f.value
  return undefined
}

/** Whether the client expects the connection to end after this request's response. */
function wantsClose(head: RequestHead): boolean {
  const c = (fieldValue(head, 'connection') ?? '').toLowerCase()
  return head.version === 'HTTP/1.0' ? !/\bkeep-alive\b/.test(c) : /\bclose\b/.test(c)
}

/**
 * The head the pod gets: origin-form request line, then `Host: <authority>`, then the client's
 * fields without Proxy-Authorization, Proxy-Connection and Host. RFC 9112 section 3.2.2: a proxy
 * that gets an absolute-form request-target ignores the received Host and replaces it with the
 * target's authority.
 */
function rewriteHead(buf: Buffer, length: number, head: RequestHead, originForm: string, authority: string): Buffer {
  const line = `${head.method} ${originForm} ${head.version}\r\nHost: ${authority}\r\n`
  const keep: [number, number][] = []
  let at = head.lineLength
  for (const f of head.fields) {
    if (f.name !== 'proxy-authorization' && f.name !== 'proxy-connection' && f.name !== 'host') continue
    if (f.start > at) keep.push([at, f.start])
    at = f.end
  }
  keep.push([at, length - 2])
  let size = Buffer.byteLength(line, 'latin1') + 2
  for (const [s, e] of keep) size += e - s
  const out = Buffer.allocUnsafe(size)
  let w = out.write(line, 0, 'latin1')
  for (const [s, e] of keep) w += buf.copy(out, w, s, e)
  out.write('\r\n', w, 'latin1')
  return out
}

export class ForwardConnection {
  readonly #dp: ClusterDataplane
  readonly #client: Socket
  readonly #links = new Map<string, PodLink>()
  /** The link whose responses the client is owed now; requests for another wait until it is idle. */
  #current: PodLink | undefined
  /** Client bytes not yet handled (a partial head, or everything after a request that waits). */
  #buf: Buffer = Buffer.alloc(0)
  #reqBody: BodyCursor | undefined
  /** Where the current request body goes; undefined: discarded (the proxy answered itself). */
  #reqTo: PodLink | undefined
  /** A request that waits for the current link to finish answering, with what to do with it. */
  #waiting: Turn | undefined
  /** An Upgrade request was sent: once its body has gone too, the next client bytes wait for the answer. */
  #blockedOnUpgrade = false
  #tunnel: PodLink | undefined
  #clientEnded = false
  #done = false
  /** A link write that has not left the process yet: reading from the client waits for it. */
  #full = false
  #last: { auth: string | undefined; authority: string; index: ClusterIndex; link: PodLink } | undefined
  readonly #peer: { address: string | undefined; port: number }
  // Timeouts: one coarse timer per connection, and an activity flag set on every read.
  #activity = true
  #quietTicks = 0
  #headTicks = 0
  readonly #timer: NodeJS.Timeout
  readonly #tickMs: number

  readonly #onData = (chunk: Buffer): void => {
    this.#activity = true
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    this.#process()
  }

  readonly #onEnd = (): void => {
    this.#clientEnded = true
    this.#maybeFinish()
  }

  constructor(dp: ClusterDataplane, client: Socket) {
    this.#dp = dp
    this.#client = client
    this.#peer = { address: client.remoteAddress, port: client.remotePort ?? 0 }
    client.on('error', () => this.#destroy())
    client.on('close', () => this.#destroy())
    client.on('data', this.#onData)
    client.on('end', this.#onEnd)
    const limits = dp.limits
    this.#tickMs = Math.max(1, Math.min(1000, limits.headerTimeoutMs / 2, limits.idleTimeoutMs / 2))
    this.#timer = setInterval(() => this.#tick(), this.#tickMs)
    this.#timer.unref()
  }

  // ---- client side ----

  #process(): void {
    while (!this.#done && this.#waiting === undefined && !this.#isHeldForUpgrade()) {
      if (this.#tunnel) {
        if (this.#buf.length > 0) this.#writeTo(this.#tunnel, this.#buf)
        this.#buf = Buffer.alloc(0)
        break
      }
      if (this.#reqBody) {
        const n = this.#reqBody.feed(this.#buf, 0)
        if (n < 0) return this.#badRequestBody()
        if (n > 0 && this.#reqTo) this.#writeTo(this.#reqTo, this.#buf.subarray(0, n))
        this.#buf = this.#buf.subarray(n)
        if (!this.#reqBody.done) break
        this.#reqBody = undefined
        this.#reqTo = undefined
        continue
      }
      // RFC 9112 2.2: empty lines before a request line are ignored.
      let skip = 0
      while (skip + 1 < this.#buf.length && this.#buf[skip] === 0x0d && this.#buf[skip + 1] === 0x0a) skip += 2
      if (skip > 0) this.#buf = this.#buf.subarray(skip)
      if (this.#buf.length === 0) break
      const r = parseRequestHead(this.#buf, maxHeadBytes)
      if (r.kind === 'incomplete') break
      if (r.kind === 'error') {
        this.#waitOrRun({ head: emptyHead, length: this.#buf.length, action: { kind: 'local', status: r.status, text: r.reason, refused: true }, originForm: '', authority: '' })
        continue
      }
      this.#headTicks = 0
      const target = splitAbsoluteTarget(r.head.target)
      this.#waitOrRun({ head: r.head, length: r.length, action: this.#decide(r.head, target), originForm: target?.originForm ?? '', authority: target?.authority ?? '' })
    }
    this.#updateReading()
  }

  /**
   * An Upgrade request's body is still HTTP/1.1 and goes first (the server may decline the
   * upgrade only once it has read it); only the bytes after the body may be another protocol.
   */
  #isHeldForUpgrade(): boolean {
    return this.#blockedOnUpgrade && this.#reqBody === undefined
  }

  /**
   * The request body being forwarded is not valid chunked framing. A 400 answers that request
   * only if no earlier response is still owed and its own has not begun; otherwise it would be
   * spliced into a pod's response, so the connection is closed instead.
   */
  #badRequestBody(): void {
    const link = this.#reqTo
    const isAnotherResponseOwed = link !== undefined && (link.pending > 1 || link.started)
    if (isAnotherResponseOwed) return this.#destroy()
    this.#answer(400, 'malformed chunked request body', { refused: true, close: true })
  }

  /** Runs a request now if its answer can go out now (in order), or parks it until the current link is idle. */
  #waitOrRun(w: Turn): void {
    const sameLink = w.action.kind === 'forward' && w.action.link === this.#current
    if (!sameLink && this.#current !== undefined && this.#current.pending > 0) {
      this.#waiting = w
      return
    }
    this.#run(w)
  }

  #run(w: Turn): void {
    const { head, length, action } = w
    const rest = this.#buf.subarray(length)
    switch (action.kind) {
      case 'forward': {
        const link = action.link
        this.#current = link
        const upgrade = fieldValue(head, 'upgrade') !== undefined
        this.#writeTo(link, rewriteHead(this.#buf, length, head, w.originForm, w.authority))
        link.pending++
        link.methods.push(head.method)
        this.#buf = rest
        if (head.body.kind !== 'none') {
          this.#reqBody = new BodyCursor(head.body)
          this.#reqTo = link
        }
        // After an Upgrade request (and its body) the next client bytes may be another protocol: wait for the answer.
        if (upgrade) this.#blockedOnUpgrade = true
        return
      }
      case 'local': {
        const malformed = head === emptyHead
        this.#buf = malformed ? Buffer.alloc(0) : rest
        // A body the client may hold back (Expect: 100-continue) cannot be skipped reliably: close instead.
        const close = malformed || wantsClose(head) || (head.body.kind !== 'none' && fieldValue(head, 'expect') !== undefined)
        if (!close && head.body.kind !== 'none') {
          this.#reqBody = new BodyCursor(head.body)
          this.#reqTo = undefined
        }
        return this.#answer(action.status, action.text, { refused: action.refused, close })
      }
      case 'drop':
        return this.#hold()
      case 'connect':
        return void this.#connect(head, rest)
    }
  }

  /** The destination of one request: checked, then pinned per (client, destination) like a conntrack entry. */
  #decide(head: RequestHead, target: ReturnType<typeof splitAbsoluteTarget>): Action {
    if (head.method === 'CONNECT') return { kind: 'connect' }
    const local = (status: number, text: string): Action => ({ kind: 'local', status, text, refused: true })
    if (!target) return local(400, 'an absolute URI (http://HOST/PATH) is required: this is a forward proxy')
    if (target.scheme !== 'http') return local(400, `${target.scheme}: URLs are forwarded only through CONNECT`)
    const auth = fieldValue(head, 'proxy-authorization')
    const index = this.#dp.index
    const last = this.#last
    let link: PodLink
    if (last && last.auth === auth && last.authority === target.authority && last.index === index) link = last.link
    else {
      let url: URL
      try {
        url = new URL(`http://${target.authority}/`)
      } catch {
        return local(400, `invalid host "${target.authority}"`)
      }
      const client = this.#clientOf(auth)
      if ('error' in client) return local(403, client.error)
      const port = url.port === '' ? 80 : Number(url.port)
      const dst = decideDestination(url.hostname, port, 'tcp', index)
      if (dst.kind === 'refuse') {
        this.#dp.refused('http proxy', client.describe, `${url.hostname}:${port}`, dst.reason)
        return local(403, `refused ${url.hostname}:${port}: ${dst.reason}`)
      }
      const key = `${client.src}>${dst.ip}:${port}`
      let pinned = this.#links.get(key)
      if (!pinned) {
        const d = this.#dp.decide('http proxy', client, dst, this.#peer.port)
        pinned = new PodLink(key, 'error' in d ? { kind: 'unreachable', reason: d.error } : d.route, `${dst.ip}:${port}`)
        this.#links.set(key, pinned)
      }
      link = pinned
      this.#last = { auth, authority: target.authority, index, link }
    }
    const r = link.route
    switch (r.kind) {
      case 'forward':
        return { kind: 'forward', link }
      case 'drop':
        return { kind: 'drop' }
      case 'reject':
        return { kind: 'local', status: 502, text: `connection to ${link.describe} refused: ${r.reason}`, refused: false }
      case 'unreachable':
        return { kind: 'local', status: 502, text: `${link.describe} unreachable: ${r.reason}`, refused: false }
    }
  }

  #clientOf(auth: string | undefined): PacketSource | { error: string } {
    const spec = parseProxyUser(basicUser(auth))
    if (spec.kind === 'invalid') return { error: spec.reason }
    return resolveClient(spec, this.#peer.address, this.#dp.index, this.#dp.defaultNode)
  }

  /** The proxy's own answer (refusals, errors), in turn with the pods' responses. */
  #answer(status: number, text: string, o: { refused: boolean; close: boolean }): void {
    const body = `kpe http proxy: ${text}\n`
    const head = `HTTP/1.1 ${status} ${statusText[status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\n${o.refused ? 'x-kpe-proxy: refused\r\n' : ''}content-length: ${Buffer.byteLength(body)}\r\n${o.close ? 'connection: close\r\n' : ''}\r\n`
    if (this.#client.destroyed || this.#client.writableEnded) return
    // With the flush callback, like the pods' bytes: a pod link paused until the client drains
    // is resumed when this write, the last one queued, has left.
    this.#client.write(head + body, this.#clientFlushed)
    if (o.close) this.#finish()
  }

  #updateReading(): void {
    if (this.#done) return
    const hold = this.#full || this.#waiting !== undefined || this.#isHeldForUpgrade()
    if (hold && !this.#client.isPaused()) this.#client.pause()
    else if (!hold && this.#client.isPaused()) this.#client.resume()
  }

  // ---- pod side ----

  #writeTo(link: PodLink, bytes: Buffer): void {
    const s = link.socket
    if (s && !link.connecting) {
      if (s.destroyed || s.writableEnded) return
      s.write(bytes, this.#linkFlushed)
      if (s.writableLength > 0) this.#full = true
      return
    }
    link.queued.push(bytes)
    this.#full = true
    if (!link.connecting) this.#open(link)
  }

  readonly #linkFlushed = (): void => {
    if (!this.#full) return
    for (const l of this.#links.values()) if (l.connecting || (l.socket && l.socket.writableLength > 0)) return
    this.#full = false
    this.#updateReading()
  }

  #open(link: PodLink): void {
    if (link.route.kind !== 'forward') return
    const route = link.route
    link.connecting = true
    this.#dp.openTcp(route, { read: 'reused-buffer' }).then(
      (s) => {
        link.connecting = false
        if (this.#done) return void s.destroy()
        link.socket = s
        s.on('error', () => this.#linkGone(link, s))
        s.on('close', () => this.#linkGone(link, s))
        s.on('end', () => this.#linkEnded(link, s))
        readInto(s, (chunk) => {
          const more = this.#fromPod(link, s, chunk)
          if (!more) link.readPaused = true
          return more
        })
        const queued = link.queued
        link.queued = []
        for (const b of queued) s.write(b, this.#linkFlushed)
        this.#linkFlushed()
      },
      (e: Error) => {
        link.connecting = false
        link.queued = []
        if (link.pending > 0) this.#upstreamFailed(link, `upstream ${route.pod} failed: ${e.message}`)
      },
    )
  }

  readonly #clientFlushed = (): void => {
    if (this.#client.writableLength > 0) return
    for (const l of this.#links.values()) {
      if (!l.readPaused) continue
      l.readPaused = false
      l.socket?.resume()
    }
  }

  /** Bytes from a pod: passed to the client as they are, while following the response framing. */
  #fromPod(link: PodLink, s: Socket, chunk: Buffer): boolean {
    this.#activity = true
    if (this.#done) return true
    if (link === this.#tunnel) return this.#toClient(chunk)
    let i = 0
    let valid = chunk.length
    let idle = false
    while (i < chunk.length) {
      if (link.pending === 0 || link !== this.#current) {
        // Bytes nobody asked for: not passed on, and the link is not trusted again.
        valid = i
        s.destroy()
        break
      }
      if (link.body) {
        const n = link.body.feed(chunk, i)
        if (n < 0) return this.#broken(link, 'malformed chunked response body')
        i += n
        if (link.body.done) {
          link.body = undefined
          idle = this.#responseDone(link)
        }
        continue
      }
      const prev = link.head
      const bytes = prev ? Buffer.concat([prev, chunk.subarray(i)]) : chunk.subarray(i)
      const r = parseResponseHead(bytes, maxHeadBytes)
      if (r.kind === 'incomplete') {
        link.head = Buffer.from(bytes)
        i = chunk.length
        break
      }
      if (r.kind === 'error') return this.#broken(link, r.reason)
      link.head = undefined
      i += r.length - (prev?.length ?? 0)
      const framing = responseBody(r.head, link.methods[0] ?? 'GET')
      if (framing.kind === 'interim') continue
      if (framing.kind === 'invalid') return this.#broken(link, 'invalid Content-Length in the response')
      if (r.head.status === 101) {
        // Switching protocols: from here on both directions are raw bytes.
        this.#tunnel = link
        link.pending = 0
        link.methods.length = 0
        this.#blockedOnUpgrade = false
        const ok = this.#toClient(chunk)
        queueMicrotask(() => this.#process())
        return ok
      }
      link.bodyUntilClose = framing.kind === 'until-close'
      if (framing.kind === 'none') idle = this.#responseDone(link)
      else link.body = new BodyCursor(framing)
    }
    const ok = valid > 0 ? this.#toClient(valid === chunk.length ? chunk : chunk.subarray(0, valid)) : true
    if (idle) this.#linkIdle()
    return ok
  }

  /** One response ended; true when the link owes nothing more. */
  #responseDone(link: PodLink): boolean {
    link.pending--
    link.methods.shift()
    link.started = false
    link.bodyUntilClose = false
    return link.pending === 0
  }

  #toClient(bytes: Buffer): boolean {
    const c = this.#client
    if (c.destroyed || c.writableEnded) return true
    if (this.#current) this.#current.started = true
    c.write(bytes, this.#clientFlushed)
    return c.writableLength === 0
  }

  /** The current link answered everything: run what waited for it. */
  #linkIdle(): void {
    if (this.#blockedOnUpgrade) this.#blockedOnUpgrade = false
    const w = this.#waiting
    if (w) {
      this.#waiting = undefined
      this.#run(w)
    }
    this.#process()
    this.#maybeFinish()
  }

  #linkEnded(link: PodLink, s: Socket): void {
    if (link === this.#tunnel) {
      if (!this.#client.destroyed) this.#client.end()
      return
    }
    this.#linkGone(link, s)
  }

  #linkGone(link: PodLink, s: Socket): void {
    if (link.socket !== s) return
    link.socket = undefined
    s.destroy()
    if (this.#done) return
    if (link === this.#tunnel) return this.#destroy()
    if (link.pending === 0 && link.head === undefined) return // an idle keep-alive connection closed: reopened on demand
    if (link.bodyUntilClose && link.pending === 1 && link.body) {
      // The response was delimited by the close: so must the client's connection be.
      this.#responseDone(link)
      return this.#finish()
    }
    this.#upstreamFailed(link, `upstream ${link.route.kind === 'forward' ? link.route.pod : link.describe} closed the connection before answering`)
  }

  #upstreamFailed(link: PodLink, text: string): void {
    if (link.started) return this.#destroy()
    this.#answer(502, text, { refused: false, close: true })
  }

  #broken(link: PodLink, reason: string): boolean {
    this.#upstreamFailed(link, `upstream ${link.describe}: ${reason}`)
    return true
  }

  // ---- CONNECT, DROP, the end ----

  async #connect(head: RequestHead, rest: Buffer): Promise<void> {
    this.#detach()
    const socket = this.#client
    const fail = (status: string, text: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nkpe http proxy: ${text}\n`)
    }
    const target = splitHostPort(head.target)
    if (!target) return fail('400 Bad Request', 'CONNECT needs HOST:PORT')
    const client = this.#clientOf(fieldValue(head, 'proxy-authorization'))
    if ('error' in client) return fail('403 Forbidden', client.error)
    const dst = decideDestination(target.host, target.port, 'tcp', this.#dp.index)
    if (dst.kind === 'refuse') {
      this.#dp.refused('http proxy connect', client.describe, head.target, dst.reason)
      return fail('403 Forbidden', `refused ${head.target}: ${dst.reason}`)
    }
    const d = this.#dp.decide('http proxy connect', client, dst, this.#peer.port)
    if ('error' in d) return fail('502 Bad Gateway', d.error)
    const r = d.route
    switch (r.kind) {
      case 'drop':
        return holdConnection(socket, this.#dp.limits.dropHoldMs)
      case 'reject':
        return fail('502 Bad Gateway', `connection refused: ${r.reason}`)
      case 'unreachable':
        return fail('502 Bad Gateway', r.reason)
      case 'forward': {
        let up: Socket
        try {
          up = await this.#dp.openTcp(r, { read: 'reused-buffer' })
        } catch (e) {
          return fail('502 Bad Gateway', e instanceof Error ? e.message : String(e))
        }
        if (socket.destroyed) return void up.destroy()
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        if (rest.length > 0) up.write(rest)
        pipeBoth(socket, up, this.#dp.limits.idleTimeoutMs)
      }
    }
  }

  #hold(): void {
    this.#detach()
    holdConnection(this.#client, this.#dp.limits.dropHoldMs)
  }

  /** Hands the client socket over (CONNECT tunnel, DROP): this object lets go of it. */
  #detach(): void {
    this.#done = true
    clearInterval(this.#timer)
    this.#client.off('data', this.#onData)
    this.#client.off('end', this.#onEnd)
    this.#client.pause()
    for (const l of this.#links.values()) l.socket?.destroy()
    this.#links.clear()
  }

  /** Client sent FIN: finish once every response it is owed has gone out. */
  #maybeFinish(): void {
    if (!this.#clientEnded || this.#done || this.#tunnel) {
      if (this.#clientEnded && this.#tunnel?.socket && !this.#tunnel.socket.writableEnded) this.#tunnel.socket.end()
      return
    }
    if (this.#current && this.#current.pending > 0) return
    this.#finish()
  }

  /** Ends the client connection after what was written; closes every pod link. */
  #finish(): void {
    if (this.#done) return
    this.#done = true
    clearInterval(this.#timer)
    this.#client.off('data', this.#onData)
    if (!this.#client.destroyed) this.#client.end()
    for (const l of this.#links.values()) l.socket?.destroy()
  }

  #destroy(): void {
    this.#done = true
    clearInterval(this.#timer)
    if (!this.#client.destroyed) this.#client.destroy()
    for (const l of this.#links.values()) l.socket?.destroy()
  }

  #tick(): void {
    if (this.#activity) {
      this.#activity = false
      this.#quietTicks = 0
    } else this.#quietTicks++
    const partialHead = this.#buf.length > 0 && this.#reqBody === undefined && this.#waiting === undefined && !this.#blockedOnUpgrade && !this.#tunnel
    this.#headTicks = partialHead ? this.#headTicks + 1 : 0
    const limits = this.#dp.limits
    const busy = this.#tunnel !== undefined || this.#reqBody !== undefined || (this.#current?.pending ?? 0) > 0 || this.#waiting !== undefined
    if (partialHead && this.#headTicks * this.#tickMs >= limits.headerTimeoutMs) {
      if (busy) return this.#destroy()
      this.#buf = Buffer.alloc(0)
      return this.#answer(408, 'the request head did not arrive in time', { refused: true, close: true })
    }
    const quietMs = this.#quietTicks * this.#tickMs
    if (busy ? quietMs >= limits.idleTimeoutMs : !partialHead && quietMs >= keepAliveMs) this.#destroy()
  }
}

/** Stands for a head that could not be parsed (its answer closes the connection). */
const emptyHead: RequestHead = { method: '', target: '', version: 'HTTP/1.1', lineLength: 0, fields: [], body: { kind: 'none' } }
