/**
 * One client connection of the HTTP forward proxy, carried at L4: owns the sockets, flow control
 * and turn-taking, so that a request for another pod link (or the proxy's own answer) waits until
 * the current link has answered and responses stay in request order. Parsing, pinning, tunnels and
 * timeouts are the http-request-stream, -connection-pins, -tunnel and -connection-timeouts modules.
 */
import type { Socket } from 'node:net'
import type { ClusterDataplane } from './cluster-dataplane.js'
import { ConnectionPins, type ClientPeer, type PodLink, type RequestAction } from './http-connection-pins.js'
import { ConnectionTimeouts } from './http-connection-timeouts.js'
import { fieldValue, renderProxyAnswer, rewriteRequestHead, wantsClose, type RequestHead } from './http-framing.js'
import { RequestStream } from './http-request-stream.js'
import { openConnectTunnel, openTunnel } from './http-tunnel.js'
import type { HandInPortResult } from './kernel-hand-in-port.js'
import { holdConnection, readInto } from './tcp-forward.js'

/** A parsed request and what to do with it (kept while it waits for its turn). */
interface Turn {
  readonly head: RequestHead
  /** The head's bytes as the client sent them; empty for a head that could not be parsed. */
  readonly raw: Buffer
  readonly action: RequestAction
}

export class ForwardConnection {
  readonly #dp: ClusterDataplane
  readonly #client: Socket
  readonly #requests = new RequestStream()
  readonly #pins: ConnectionPins
  /** The link whose responses the client is owed now; requests for another wait until it is idle. */
  #current: PodLink | undefined
  /** Where the current request body goes; undefined: discarded (the proxy answered itself). */
  #reqTo: PodLink | undefined
  /** A request that waits for the current link to finish answering, with what to do with it. */
  #waiting: Turn | undefined
  /** An Upgrade request was sent: once its body has gone too, the next client bytes wait for the answer. */
  #blockedOnUpgrade = false
  #clientEnded = false
  #done = false
  /** A link write that has not left the process yet: reading from the client waits for it. */
  #full = false
  readonly #peer: ClientPeer
  readonly #timeouts: ConnectionTimeouts
  readonly #timer: NodeJS.Timeout

  readonly #onData = (chunk: Buffer): void => {
    this.#timeouts.sawActivity()
    this.#requests.push(chunk)
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
    this.#pins = new ConnectionPins(dp, this.#peer)
    client.on('error', () => this.#destroy())
    client.on('close', () => this.#destroy())
    client.on('data', this.#onData)
    client.on('end', this.#onEnd)
    this.#timeouts = new ConnectionTimeouts(dp.limits)
    this.#timer = setInterval(() => this.#tick(), this.#timeouts.tickMs)
    this.#timer.unref()
  }

  // ---- client side ----

  #process(): void {
    while (!this.#done && this.#waiting === undefined && !this.#isHeldForUpgrade()) {
      const e = this.#requests.next()
      if (e.kind === 'need-more') break
      if (e.kind === 'bad-body') return this.#badRequestBody()
      if (e.kind === 'body') {
        if (e.bytes.length > 0 && this.#reqTo) this.#writeTo(this.#reqTo, e.bytes)
        if (e.isLast) this.#reqTo = undefined
        continue
      }
      if (e.kind === 'bad-head') {
        this.#waitOrRun({ head: unparsedHead, raw: emptyBytes, action: { kind: 'local', status: e.status, text: e.reason, refused: true } })
        continue
      }
      this.#timeouts.sawHead()
      this.#waitOrRun({ head: e.head, raw: e.raw, action: this.#pins.route(e.head) })
    }
    this.#updateReading()
  }

  /**
   * An Upgrade request's body is still HTTP/1.1 and goes first (the server may decline the
   * upgrade only once it has read it); only the bytes after the body may be another protocol.
   */
  #isHeldForUpgrade(): boolean {
    return this.#blockedOnUpgrade && !this.#requests.isInBody
  }

  /**
   * The request body being forwarded is not valid chunked framing. A 400 answers that request
   * only if no earlier response is still owed and its own has not begun; otherwise it would be
   * spliced into a pod's response, so the connection is closed instead.
   */
  #badRequestBody(): void {
    const link = this.#reqTo
    const isAnotherResponseOwed = link !== undefined && (link.responses.pending > 1 || link.started)
    if (isAnotherResponseOwed) return this.#destroy()
    this.#answer(400, 'malformed chunked request body', { refused: true, close: true })
  }

  /** Runs a request now if its answer can go out now (in order), or parks it until the current link is idle. */
  #waitOrRun(w: Turn): void {
    const sameLink = w.action.kind === 'forward' && w.action.link === this.#current
    if (!sameLink && this.#current !== undefined && this.#current.responses.pending > 0) {
      this.#waiting = w
      return
    }
    this.#run(w)
  }

  /** Carries out a request's action; its body (if any) comes next from the request stream. */
  #run(w: Turn): void {
    const { head, action } = w
    switch (action.kind) {
      case 'forward': {
        const link = action.link
        this.#current = link
        this.#writeTo(link, rewriteRequestHead(w.raw, head, action.originForm, action.authority))
        link.responses.expect(head.method)
        this.#reqTo = head.body.kind === 'none' ? undefined : link
        // After an Upgrade request (and its body) the next client bytes may be another protocol: wait for the answer.
        if (fieldValue(head, 'upgrade') !== undefined) this.#blockedOnUpgrade = true
        return
      }
      case 'local': {
        // A body the client may hold back (Expect: 100-continue) cannot be skipped reliably: close instead.
        const close = head === unparsedHead || wantsClose(head) || (head.body.kind !== 'none' && fieldValue(head, 'expect') !== undefined)
        this.#reqTo = undefined
        return this.#answer(action.status, action.text, { refused: action.refused, close })
      }
      case 'drop':
        return this.#hold()
      case 'connect': {
        this.#detach()
        return void openConnectTunnel(this.#dp, this.#client, this.#peer, head, fieldValue(head, 'proxy-authorization'), this.#requests.takeRest())
      }
    }
  }

  /** The proxy's own answer (refusals, errors), in turn with the pods' responses. */
  #answer(status: number, text: string, o: { refused: boolean; close: boolean }): void {
    if (this.#client.destroyed || this.#client.writableEnded) return
    // With the flush callback, like the pods' bytes: a pod link paused until the client drains
    // is resumed when this write, the last one queued, has left.
    this.#client.write(renderProxyAnswer(status, text, o), this.#clientFlushed)
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
    for (const l of this.#pins.links()) if (l.connecting || (l.socket && l.socket.writableLength > 0)) return
    this.#full = false
    this.#updateReading()
  }

  #open(link: PodLink): void {
    const route = link.route
    if (route.kind === 'hand-in') return this.#openHandIn(link, route.open)
    if (route.kind !== 'forward') return
    link.connecting = true
    this.#dp.openTcp(route, { read: 'reused-buffer' }).then(
      (s) => this.#linkOpened(link, s),
      (e: Error) => {
        link.connecting = false
        link.queued = []
        if (link.responses.pending > 0) this.#upstreamFailed(link, `upstream ${route.pod} failed: ${e.message}`)
      },
    )
  }

  /** The kernel dataplane: the hop opens the link; a DROP holds the client, as the rules' own DROP does. */
  #openHandIn(link: PodLink, open: () => Promise<HandInPortResult>): void {
    link.connecting = true
    open().then(
      (h) => {
        if (h.kind === 'connected') return this.#linkOpened(link, h.socket)
        link.connecting = false
        link.queued = []
        if (this.#done || link.responses.pending === 0) return
        if (h.kind === 'dropped') return this.#hold()
        this.#upstreamFailed(link, h.kind === 'refused' ? `connection to ${link.describe} refused: ${h.reason}` : `${link.describe} unreachable: ${h.reason}`)
      },
      (e: Error) => {
        link.connecting = false
        link.queued = []
        if (link.responses.pending > 0) this.#upstreamFailed(link, `upstream ${link.describe} failed: ${e.message}`)
      },
    )
  }

  /** A link's socket (the pod's or the hop's) is up: responses are read, queued requests go out. */
  #linkOpened(link: PodLink, s: Socket): void {
    link.connecting = false
    if (this.#done) return void s.destroy()
    link.socket = s
    s.on('error', () => this.#linkGone(link, s))
    s.on('close', () => this.#linkGone(link, s))
    s.on('end', () => this.#linkGone(link, s))
    readInto(s, (chunk) => {
      const more = this.#fromPod(link, s, chunk)
      if (!more) link.readPaused = true
      return more
    })
    const queued = link.queued
    link.queued = []
    for (const b of queued) s.write(b, this.#linkFlushed)
    this.#linkFlushed()
  }

  readonly #clientFlushed = (): void => {
    if (this.#client.writableLength > 0) return
    for (const l of this.#pins.links()) {
      if (!l.readPaused) continue
      l.readPaused = false
      l.socket?.resume()
    }
  }

  /** Bytes from a pod: passed to the client as they are, while following the response framing. */
  #fromPod(link: PodLink, s: Socket, chunk: Buffer): boolean {
    this.#timeouts.sawActivity()
    if (this.#done) return true
    let i = 0
    let valid = chunk.length
    let idle = false
    /** Where the last response that ended in this chunk ended. */
    let ended = 0
    while (i < chunk.length) {
      if (link.responses.pending === 0 || link !== this.#current) {
        // Bytes nobody asked for: not passed on, and the link is not trusted again.
        valid = i
        s.destroy()
        break
      }
      const e = link.responses.next(chunk, i)
      if (e.kind === 'error') return this.#broken(link, chunk.subarray(0, ended), e.reason)
      i = e.next
      if (e.kind === 'response-end') {
        link.started = false
        idle = link.responses.pending === 0
        ended = i
      } else if (e.kind === 'switching') {
        this.#upgraded(link, s, chunk)
        return true
      }
    }
    const ok = valid > 0 ? this.#toClient(valid === chunk.length ? chunk : chunk.subarray(0, valid)) : true
    if (idle) this.#linkIdle()
    return ok
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

  #linkGone(link: PodLink, s: Socket): void {
    if (link.socket !== s) return
    link.socket = undefined
    s.destroy()
    if (this.#done) return
    if (link.responses.pending === 0 && !link.responses.hasPartialHead) return // an idle keep-alive connection closed: reopened on demand
    if (link.responses.endByClose()) {
      // The response was delimited by the close: so must the client's connection be.
      link.started = false
      return this.#finish()
    }
    this.#upstreamFailed(link, `upstream ${link.route.kind === 'forward' ? link.route.pod : link.describe} closed the connection before answering`)
  }

  #upstreamFailed(link: PodLink, text: string): void {
    if (link.started) return this.#destroy()
    this.#answer(502, text, { refused: false, close: true })
  }

  /**
   * The pod's bytes are not valid responses. `complete`: the responses that ended in the same read
   * before the broken one, passed on first (copied: the pod's read buffer is recycled once the
   * link closes); the broken one, unless it had begun in an earlier read, is answered 502.
   */
  #broken(link: PodLink, complete: Buffer, reason: string): boolean {
    if (complete.length > 0) {
      this.#toClient(Buffer.from(complete))
      // Those responses ended; none of the broken one's bytes went out.
      link.started = false
    }
    this.#upstreamFailed(link, `upstream ${link.describe}: ${reason}`)
    return true
  }

  // ---- DROP, tunnels, the end ----

  /**
   * The pod switched protocols (101): from here on both directions are raw bytes between the
   * client and this pod connection, handed over whole; the 101 and what came with it is copied
   * out of the reused read buffer.
   */
  #upgraded(link: PodLink, s: Socket, chunk: Buffer): void {
    // Not this object's any more: its listeners on s ignore a socket that is not the link's, and #detach leaves it open.
    link.socket = undefined
    if (this.#client.destroyed) {
      s.destroy()
      return this.#destroy()
    }
    const fromClient = this.#requests.takeRest()
    this.#detach()
    openTunnel(this.#client, s, Buffer.from(chunk), fromClient, { idleTimeoutMs: this.#dp.limits.idleTimeoutMs, hasClientEnded: this.#clientEnded })
  }

  #hold(): void {
    this.#detach()
    holdConnection(this.#client, this.#dp.limits.dropHoldMs)
  }

  /** Hands the client socket over (a tunnel, DROP): this object lets go of it and closes its pod links. */
  #detach(): void {
    this.#done = true
    clearInterval(this.#timer)
    this.#client.off('data', this.#onData)
    this.#client.off('end', this.#onEnd)
    this.#client.pause()
    for (const l of this.#pins.links()) l.socket?.destroy()
    this.#pins.clear()
  }

  /** Client sent FIN: finish once every response it is owed has gone out. */
  #maybeFinish(): void {
    if (!this.#clientEnded || this.#done) return
    if (this.#current && this.#current.responses.pending > 0) return
    this.#finish()
  }

  /** Ends the client connection after what was written; closes every pod link. */
  #finish(): void {
    if (this.#done) return
    this.#done = true
    clearInterval(this.#timer)
    this.#client.off('data', this.#onData)
    if (!this.#client.destroyed) this.#client.end()
    for (const l of this.#pins.links()) l.socket?.destroy()
  }

  #destroy(): void {
    this.#done = true
    clearInterval(this.#timer)
    if (!this.#client.destroyed) this.#client.destroy()
    for (const l of this.#pins.links()) l.socket?.destroy()
  }

  #tick(): void {
    const isPartialHead = this.#requests.hasPartialHead && this.#waiting === undefined && !this.#blockedOnUpgrade
    const isBusy = this.#requests.isInBody || (this.#current?.responses.pending ?? 0) > 0 || this.#waiting !== undefined
    switch (this.#timeouts.tick({ isPartialHead, isBusy })) {
      case 'none':
        return
      case 'request-timeout':
        this.#requests.takeRest()
        return this.#answer(408, 'the request head did not arrive in time', { refused: true, close: true })
      case 'destroy':
        return this.#destroy()
    }
  }
}

/** Stands for a head that could not be parsed (its answer closes the connection). */
const unparsedHead: RequestHead = { method: '', target: '', version: 'HTTP/1.1', lineLength: 0, fields: [], body: { kind: 'none' } }
const emptyBytes = Buffer.alloc(0)
