/**
 * The client side of one forward-proxy connection as a state machine: bytes in, request heads
 * and body pieces out, in order (keep-alive, pipelining). The caller pulls one event at a time,
 * so a request can wait for its turn with its bytes left here. Pure: no sockets, no timers.
 */
import { BodyCursor, parseRequestHead, type RequestHead } from './http-framing.js'

/** Node's default limit for a head (--max-http-header-size). */
export const maxHeadBytes = 16 * 1024

export type RequestEvent =
  /** Nothing more can be said until more bytes arrive. */
  | { readonly kind: 'need-more' }
  /** A complete head; `raw` is its bytes, empty line included. Its body (if any) follows as 'body' events. */
  | { readonly kind: 'head'; readonly head: RequestHead; readonly raw: Buffer }
  /** Bytes of the current request's body; `isLast` at its last byte. */
  | { readonly kind: 'body'; readonly bytes: Buffer; readonly isLast: boolean }
  /** The head could not be parsed: everything buffered was dropped (the answer closes the connection). */
  | { readonly kind: 'bad-head'; readonly status: 400 | 431 | 501 | 502; readonly reason: string }
  /** The current body is not valid chunked framing; the stream cannot go on. */
  | { readonly kind: 'bad-body' }

const needMore: RequestEvent = { kind: 'need-more' }
const empty = Buffer.alloc(0)

export class RequestStream {
  /** Bytes not handed out yet: a partial head, a body's next piece, or requests after it. */
  #buf: Buffer = empty
  #body: BodyCursor | undefined

  /** Appends bytes read from the client. */
  push(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
  }

  /** Within a request body (a head was handed out and its body has not ended). */
  get isInBody(): boolean {
    return this.#body !== undefined
  }

  /** Bytes of a head that has not ended yet are waiting (what the header timeout watches). */
  get hasPartialHead(): boolean {
    return this.#buf.length > 0 && this.#body === undefined
  }

  next(): RequestEvent {
    if (this.#body) return this.#nextBody(this.#body)
    // RFC 9112 2.2: empty lines before a request line are ignored.
    let skip = 0
    while (skip + 1 < this.#buf.length && this.#buf[skip] === 0x0d && this.#buf[skip + 1] === 0x0a) skip += 2
    if (skip > 0) this.#buf = this.#buf.subarray(skip)
    if (this.#buf.length === 0) return needMore
    const r = parseRequestHead(this.#buf, maxHeadBytes)
    if (r.kind === 'incomplete') return needMore
    if (r.kind === 'error') {
      this.#buf = empty
      return { kind: 'bad-head', status: r.status, reason: r.reason }
    }
    const raw = this.#buf.subarray(0, r.length)
    this.#buf = this.#buf.subarray(r.length)
    if (r.head.body.kind !== 'none') this.#body = new BodyCursor(r.head.body)
    return { kind: 'head', head: r.head, raw }
  }

  #nextBody(body: BodyCursor): RequestEvent {
    const n = body.feed(this.#buf, 0)
    if (n < 0) return { kind: 'bad-body' }
    if (n === 0 && !body.done) return needMore
    const bytes = this.#buf.subarray(0, n)
    this.#buf = this.#buf.subarray(n)
    if (body.done) this.#body = undefined
    return { kind: 'body', bytes, isLast: body.done }
  }

  /** Everything not handed out yet, for a tunnel (after CONNECT or a 101): the stream is empty after. */
  takeRest(): Buffer {
    const rest = this.#buf
    this.#buf = empty
    this.#body = undefined
    return rest
  }
}
