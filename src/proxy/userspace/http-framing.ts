/**
 * Just enough HTTP/1.x for the forward proxy to carry requests at L4 (RFC 9112): request and
 * response heads (where the head ends, the fields that decide framing and routing) and a body
 * state machine (Content-Length, chunked, until close) that says where a message ends without
 * copying its bytes. Bytes pass through unchanged; only the request line and the proxy's own
 * header fields are rewritten (rewriteRequestHead). Pure.
 */

export type HeadParse<T> =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly status: 400 | 431 | 501 | 502; readonly reason: string }
  | { readonly kind: 'ok'; readonly head: T; readonly length: number }

/** How a message body is delimited. */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'until-close' }

export interface HeaderField {
  /** Lower-cased. */
  readonly name: string
  readonly value: string
  /** Byte range of the whole line in the head, CRLF included. */
  readonly start: number
  readonly end: number
}

export interface RequestHead {
  readonly method: string
  readonly target: string
  readonly version: 'HTTP/1.0' | 'HTTP/1.1'
  /** Byte length of the request line, CRLF included. */
  readonly lineLength: number
  readonly fields: readonly HeaderField[]
  readonly body: BodyFraming
}

export interface ResponseHead {
  readonly status: number
  readonly fields: readonly HeaderField[]
}

const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const crlfcrlf = Buffer.from('\r\n\r\n')

/** Where the head ending at the first empty line ends (its length), or -1. */
function headEnd(buf: Buffer, maxBytes: number): number {
  const i = buf.indexOf(crlfcrlf, 0)
  if (i >= 0 && i + 4 <= maxBytes) return i + 4
  return buf.length >= maxBytes || i >= 0 ? -2 : -1
}

/** The head's lines after the first, as fields; undefined when a line is malformed. */
function parseFields(text: string, from: number): HeaderField[] | string {
  const fields: HeaderField[] = []
  let at = from
  for (;;) {
    const eol = text.indexOf('\r\n', at)
    if (eol === at) return fields // the empty line that ends the head
    const line = text.slice(at, eol)
    if (line.includes('\n') || line.includes('\r')) return 'bare CR or LF in a header line'
    const colon = line.indexOf(':')
    // obs-fold (a line starting with whitespace) and whitespace before the colon are rejected (RFC 9112 5.1, 5.2).
    if (colon <= 0 || !token.test(line.slice(0, colon))) return `malformed header line "${line.slice(0, 40)}"`
    fields.push({ name: line.slice(0, colon).toLowerCase(), value: line.slice(colon + 1).trim(), start: at, end: eol + 2 })
    at = eol + 2
  }
}

function values(fields: readonly HeaderField[], name: string): string[] {
  const out: string[] = []
  for (const f of fields) if (f.name === name) out.push(f.value)
  return out
}

/** Content-Length values must agree and be digits; undefined when absent. */
function contentLength(fields: readonly HeaderField[]): number | undefined | 'invalid' {
  let n: number | undefined
  for (const v of values(fields, 'content-length')) {
    for (const part of v.split(',')) {
      const p = part.trim()
      if (!/^\d{1,15}$/.test(p)) return 'invalid'
      const x = Number(p)
      if (n !== undefined && n !== x) return 'invalid'
      n = x
    }
  }
  return n
}

/** Is chunked the last transfer coding? undefined: no Transfer-Encoding at all. */
function chunkedLast(fields: readonly HeaderField[]): boolean | undefined {
  const te = values(fields, 'transfer-encoding')
  if (te.length === 0) return undefined
  const codings = te.join(',').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '')
  return codings[codings.length - 1] === 'chunked'
}

export function parseRequestHead(buf: Buffer, maxBytes: number): HeadParse<RequestHead> {
  const end = headEnd(buf, maxBytes)
  if (end === -1) return { kind: 'incomplete' }
  if (end === -2) return { kind: 'error', status: 431, reason: `request head larger than ${maxBytes} bytes` }
  const text = buf.toString('latin1', 0, end)
  const eol = text.indexOf('\r\n')
  const parts = text.slice(0, eol).split(' ')
  if (parts.length !== 3 || !token.test(parts[0]!) || parts[1] === '') return { kind: 'error', status: 400, reason: 'malformed request line' }
  const version = parts[2]
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return { kind: 'error', status: 400, reason: `unsupported HTTP version "${version?.slice(0, 20)}"` }
  if (/[\x00-\x20\x7f]/.test(parts[1]!)) return { kind: 'error', status: 400, reason: 'malformed request target' }
  const fields = parseFields(text, eol + 2)
  if (typeof fields === 'string') return { kind: 'error', status: 400, reason: fields }
  const chunked = chunkedLast(fields)
  const length = contentLength(fields)
  // Both, or a coding other than chunked last, would let two parsers disagree on where the request ends.
  if (chunked !== undefined && length !== undefined) return { kind: 'error', status: 400, reason: 'both Transfer-Encoding and Content-Length' }
  if (chunked === false) return { kind: 'error', status: 501, reason: 'a request Transfer-Encoding must end in chunked' }
  if (length === 'invalid') return { kind: 'error', status: 400, reason: 'invalid Content-Length' }
  const body: BodyFraming = chunked ? { kind: 'chunked' } : length ? { kind: 'length', length } : { kind: 'none' }
  return { kind: 'ok', length: end, head: { method: parts[0]!, target: parts[1]!, version, lineLength: eol + 2, fields, body } }
}

export function parseResponseHead(buf: Buffer, maxBytes: number): HeadParse<ResponseHead> {
  const end = headEnd(buf, maxBytes)
  if (end === -1) return { kind: 'incomplete' }
  if (end === -2) return { kind: 'error', status: 502, reason: `response head larger than ${maxBytes} bytes` }
  const text = buf.toString('latin1', 0, end)
  const eol = text.indexOf('\r\n')
  const m = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/.exec(text.slice(0, eol))
  if (!m) return { kind: 'error', status: 502, reason: 'malformed status line' }
  const fields = parseFields(text, eol + 2)
  if (typeof fields === 'string') return { kind: 'error', status: 502, reason: fields }
  return { kind: 'ok', length: end, head: { status: Number(m[1]), fields } }
}

/** RFC 9112 6.3: how the body of a response to `method` is delimited; 'interim' for 1xx other than 101. */
export function responseBody(head: ResponseHead, method: string): BodyFraming | { readonly kind: 'interim' } | { readonly kind: 'invalid' } {
  const s = head.status
  if (s >= 100 && s < 200 && s !== 101) return { kind: 'interim' }
  if (method === 'HEAD' || s === 101 || s === 204 || s === 304 || (method === 'CONNECT' && s >= 200 && s < 300)) return { kind: 'none' }
  const chunked = chunkedLast(head.fields)
  if (chunked === true) return { kind: 'chunked' }
  if (chunked === false) return { kind: 'until-close' }
  const length = contentLength(head.fields)
  if (length === 'invalid') return { kind: 'invalid' }
  return length === undefined ? { kind: 'until-close' } : length === 0 ? { kind: 'none' } : { kind: 'length', length }
}

type ChunkState = 'size' | 'size-ext' | 'size-lf' | 'data' | 'data-cr' | 'data-lf' | 'trailer-start' | 'trailer-line' | 'trailer-lf' | 'final-lf'

/**
 * Follows one message body through the bytes given to it, in pieces of any size. `feed` returns
 * how many bytes belong to the body (the rest, if any, is the next message) or -1 on a framing
 * error; `done` turns true at the body's last byte.
 */
export class BodyCursor {
  #remaining: number
  #chunk: ChunkState = 'size'
  #size = 0
  #sizeDigits = 0
  readonly #framing: BodyFraming
  done: boolean

  constructor(framing: BodyFraming) {
    this.#framing = framing
    this.#remaining = framing.kind === 'length' ? framing.length : 0
    this.done = framing.kind === 'none'
  }

  feed(buf: Buffer, from: number): number {
    if (this.done) return 0
    switch (this.#framing.kind) {
      case 'none':
        return 0
      case 'until-close':
        return buf.length - from
      case 'length': {
        const n = Math.min(this.#remaining, buf.length - from)
        this.#remaining -= n
        this.done = this.#remaining === 0
        return n
      }
      case 'chunked':
        return this.#feedChunked(buf, from)
    }
  }

  #feedChunked(buf: Buffer, from: number): number {
    let i = from
    while (i < buf.length && !this.done) {
      if (this.#chunk === 'data') {
        const n = Math.min(this.#size, buf.length - i)
        this.#size -= n
        i += n
        if (this.#size === 0) this.#chunk = 'data-cr'
        continue
      }
      const c = buf[i++]!
      switch (this.#chunk) {
        case 'size': {
          const d = hexDigit(c)
          if (d >= 0) {
            if (++this.#sizeDigits > 12) return -1
            this.#size = this.#size * 16 + d
          } else if (this.#sizeDigits === 0) return -1
          else if (c === 0x0d) this.#chunk = 'size-lf'
          else if (c === 0x3b || c === 0x20 || c === 0x09) this.#chunk = 'size-ext'
          else return -1
          break
        }
        case 'size-ext':
          if (c === 0x0d) this.#chunk = 'size-lf'
          else if (c === 0x0a) return -1
          break
        case 'size-lf':
          if (c !== 0x0a) return -1
          this.#sizeDigits = 0
          this.#chunk = this.#size === 0 ? 'trailer-start' : 'data'
          break
        case 'data-cr':
          if (c !== 0x0d) return -1
          this.#chunk = 'data-lf'
          break
        case 'data-lf':
          if (c !== 0x0a) return -1
          this.#chunk = 'size'
          break
        case 'trailer-start':
          if (c === 0x0d) this.#chunk = 'final-lf'
          else if (c === 0x0a) return -1
          else this.#chunk = 'trailer-line'
          break
        case 'trailer-line':
          if (c === 0x0d) this.#chunk = 'trailer-lf'
          else if (c === 0x0a) return -1
          break
        case 'trailer-lf':
          if (c !== 0x0a) return -1
          this.#chunk = 'trailer-start'
          break
        case 'final-lf':
          if (c !== 0x0a) return -1
          this.done = true
          break
      }
    }
    return i - from
  }
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}

/**
 * An absolute-form request target (`http://authority/path?query`) split into its authority and
 * the origin-form the pod gets; the fragment is dropped. undefined when it is not absolute-form http.
 */
export function splitAbsoluteTarget(target: string): { readonly scheme: string; readonly authority: string; readonly originForm: string } | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(target)
  if (!m) return undefined
  const rest = m[3]!
  return { scheme: m[1]!.toLowerCase(), authority: m[2]!, originForm: rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest }
}

/** The first value of a field (name lower-cased); undefined when absent. */
export function fieldValue(head: { readonly fields: readonly HeaderField[] }, name: string): string | undefined {
  for (const f of head.fields) if (f.name === name) return f.value
  return undefined
}

/** Whether the client expects the connection to end after this request's response. */
export function wantsClose(head: RequestHead): boolean {
  const c = (fieldValue(head, 'connection') ?? '').toLowerCase()
  return head.version === 'HTTP/1.0' ? !/\bkeep-alive\b/.test(c) : /\bclose\b/.test(c)
}

/**
 * The head the pod gets, from the client's head bytes `raw`: origin-form request line, then
 * `Host: <authority>`, then the client's fields without Proxy-Authorization, Proxy-Connection and
 * Host. RFC 9112 section 3.2.2: a proxy that gets an absolute-form request-target ignores the
 * received Host and replaces it with the target's authority.
 */
export function rewriteRequestHead(raw: Buffer, head: RequestHead, originForm: string, authority: string): Buffer {
  const line = `${head.method} ${originForm} ${head.version}\r\nHost: ${authority}\r\n`
  const keep: [number, number][] = []
  let at = head.lineLength
  for (const f of head.fields) {
    if (f.name !== 'proxy-authorization' && f.name !== 'proxy-connection' && f.name !== 'host') continue
    if (f.start > at) keep.push([at, f.start])
    at = f.end
  }
  keep.push([at, raw.length - 2])
  let size = Buffer.byteLength(line, 'latin1') + 2
  for (const [s, e] of keep) size += e - s
  const out = Buffer.allocUnsafe(size)
  let w = out.write(line, 0, 'latin1')
  for (const [s, e] of keep) w += raw.copy(out, w, s, e)
  out.write('\r\n', w, 'latin1')
  return out
}

const statusText: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 501: 'Not Implemented', 502: 'Bad Gateway' }

/**
 * The proxy's own answer to a request (refusals, errors), as a complete HTTP/1.1 response with a
 * text body. `refused`: the proxy refused, not the rules (x-kpe-proxy: refused); `close`: the
 * connection ends after it.
 */
export function renderProxyAnswer(status: number, text: string, o: { readonly refused: boolean; readonly close: boolean }): string {
  const body = `kpe http proxy: ${text}\n`
  const head = `HTTP/1.1 ${status} ${statusText[status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\n${o.refused ? 'x-kpe-proxy: refused\r\n' : ''}content-length: ${Buffer.byteLength(body)}\r\n${o.close ? 'connection: close\r\n' : ''}\r\n`
  return head + body
}
