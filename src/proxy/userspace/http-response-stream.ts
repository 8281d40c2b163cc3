/**
 * The responses on one pod connection as a state machine: the methods of the requests sent on it
 * (pipelined, answered in order) and each response's framing, followed through the pod's bytes
 * without copying them, only to know where every response ends. Pure: no sockets, no timers.
 */
import { BodyCursor, parseResponseHead, responseBody } from './http-framing.js'
import { maxHeadBytes } from './http-request-stream.js'

export type ResponseEvent =
  /** Bytes up to `next` belong to the response under way (or an interim 1xx head), which goes on. */
  | { readonly kind: 'partial'; readonly next: number }
  /** A response ended at `next`. */
  | { readonly kind: 'response-end'; readonly next: number }
  /** A 101 head ended at `next`: from there on the bytes are another protocol, and nothing is owed. */
  | { readonly kind: 'switching'; readonly next: number }
  /** The pod's bytes are not valid HTTP/1.1 responses. */
  | { readonly kind: 'error'; readonly reason: string }

export class ResponseStream {
  /** Methods of the requests sent whose responses have not ended, oldest first (HEAD has no body). */
  readonly #methods: string[] = []
  /** A response head split over reads (copied: reads land in a reused buffer). */
  #head: Buffer | undefined
  #body: BodyCursor | undefined
  /** The response under way ends only when the pod closes its connection. */
  #isBodyUntilClose = false

  /** A request was sent on this connection: one more response is owed. */
  expect(method: string): void {
    this.#methods.push(method)
  }

  /** Responses owed. */
  get pending(): number {
    return this.#methods.length
  }

  get hasPartialHead(): boolean {
    return this.#head !== undefined
  }

  /**
   * Follows `chunk` from `from` to the end of one step: a head, a body piece or a body's end.
   * The caller calls again from `next` while bytes are left and a response is owed.
   */
  next(chunk: Buffer, from: number): ResponseEvent {
    if (this.#body) {
      const n = this.#body.feed(chunk, from)
      if (n < 0) return { kind: 'error', reason: 'malformed chunked response body' }
      if (!this.#body.done) return { kind: 'partial', next: from + n }
      this.#body = undefined
      this.#responseDone()
      return { kind: 'response-end', next: from + n }
    }
    const prev = this.#head
    const bytes = prev ? Buffer.concat([prev, chunk.subarray(from)]) : chunk.subarray(from)
    const r = parseResponseHead(bytes, maxHeadBytes)
    if (r.kind === 'incomplete') {
      this.#head = Buffer.from(bytes)
      return { kind: 'partial', next: chunk.length }
    }
    if (r.kind === 'error') return { kind: 'error', reason: r.reason }
    this.#head = undefined
    const next = from + r.length - (prev?.length ?? 0)
    const framing = responseBody(r.head, this.#methods[0] ?? 'GET')
    if (framing.kind === 'interim') return { kind: 'partial', next }
    if (framing.kind === 'invalid') return { kind: 'error', reason: 'invalid Content-Length in the response' }
    if (r.head.status === 101) {
      this.#methods.length = 0
      return { kind: 'switching', next }
    }
    this.#isBodyUntilClose = framing.kind === 'until-close'
    if (framing.kind !== 'none') {
      this.#body = new BodyCursor(framing)
      return { kind: 'partial', next }
    }
    this.#responseDone()
    return { kind: 'response-end', next }
  }

  /**
   * The pod closed its connection. True when that close was the end of the only response owed
   * (delimited by the close), which then counts as ended.
   */
  endByClose(): boolean {
    if (!(this.#isBodyUntilClose && this.#methods.length === 1 && this.#body)) return false
    this.#body = undefined
    this.#responseDone()
    return true
  }

  #responseDone(): void {
    this.#methods.shift()
    this.#isBodyUntilClose = false
  }
}
