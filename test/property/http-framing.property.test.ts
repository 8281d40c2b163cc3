/**
 * The forward proxy's HTTP framing: any sequence of requests (or responses), serialized and cut
 * into pieces anywhere, splits back into exactly the messages that were written, both with the
 * framing functions alone and through the state machines the proxy runs (RequestStream, ResponseStream).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BodyCursor, parseRequestHead, parseResponseHead, responseBody } from '../../src/proxy/userspace/index.js'
import { RequestStream } from '../../src/proxy/userspace/http-request-stream.js'
import { ResponseStream } from '../../src/proxy/userspace/http-response-stream.js'

interface Msg {
  readonly head: string
  readonly body: Buffer
  readonly framing: 'length' | 'chunked' | 'none'
  /** For responses: the request method (HEAD has no body). */
  readonly method?: string
}

const tchar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-'.split(''))
const name = fc.array(tchar, { minLength: 1, maxLength: 12 }).map((a) => `x-${a.join('')}`)
const value = fc.string({ maxLength: 20 }).map((s) => s.replace(/[^\x21-\x7e ]/g, 'v').trim())
const extra = fc.array(fc.tuple(name, value), { maxLength: 4 })
const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))
const chunkSizes = fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 5 })

function chunked(body: Buffer, sizes: readonly number[]): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (const s of [...sizes, body.length]) {
    if (at >= body.length) break
    const piece = body.subarray(at, Math.min(body.length, at + s))
    at += piece.length
    parts.push(Buffer.from(`${piece.length.toString(16)};ext=1\r\n`), piece, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from('0\r\nx-trailer: t\r\n\r\n'))
  return Buffer.concat(parts)
}

const request: fc.Arbitrary<Msg & { wire: Buffer }> = fc
  .record({ method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), path: fc.constantFrom('/', '/a?b=c', '/x/y'), extra, body: bytes, framing: fc.constantFrom('length', 'chunked', 'none' as const), sizes: chunkSizes })
  .map(({ method, path, extra, body, framing, sizes }) => {
    const fields = extra.map(([n, v]) => `${n}: ${v}\r\n`).join('')
    const b = framing === 'none' ? Buffer.alloc(0) : body
    const frame = framing === 'length' ? `Content-Length: ${b.length}\r\n` : framing === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : ''
    const head = `${method} http://10.96.0.10${path} HTTP/1.1\r\nHost: 10.96.0.10\r\n${fields}${frame}\r\n`
    const wire = Buffer.concat([Buffer.from(head, 'latin1'), framing === 'chunked' ? chunked(b, sizes) : b])
    return { head, body: b, framing, wire }
  })

const response: fc.Arbitrary<Msg & { wire: Buffer }> = fc
  .record({ status: fc.constantFrom(200, 204, 304, 404, 100), method: fc.constantFrom('GET', 'HEAD', 'POST'), extra, body: bytes, framing: fc.constantFrom('length', 'chunked' as const), sizes: chunkSizes })
  .map(({ status, method, extra, body, framing, sizes }) => {
    const fields = extra.map(([n, v]) => `${n}: ${v}\r\n`).join('')
    const noBody = method === 'HEAD' || status === 204 || status === 304 || status === 100
    // A response to HEAD announces the length the body would have had.
    const frame = framing === 'length' ? `Content-Length: ${body.length}\r\n` : 'Transfer-Encoding: chunked\r\n'
    const head = `HTTP/1.1 ${status} Whatever\r\n${fields}${status === 100 ? '' : frame}\r\n`
    const b = noBody ? Buffer.alloc(0) : body
    const wire = Buffer.concat([Buffer.from(head, 'latin1'), noBody ? b : framing === 'chunked' ? chunked(b, sizes) : b])
    return { head, body: b, framing, method, wire }
  })

/** Cuts buf at the given fractions. */
function cut(buf: Buffer, at: readonly number[]): Buffer[] {
  const points = [...new Set(at.map((f) => Math.floor(f * buf.length)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let prev = 0
  for (const p of points) {
    out.push(buf.subarray(prev, p))
    prev = p
  }
  out.push(buf.subarray(prev))
  return out
}

/** Splits a byte stream fed in pieces into (head, raw body bytes) per message, as the proxy does. */
function split(pieces: readonly Buffer[], kind: 'request' | 'response', methods: readonly string[]): { head: string; raw: Buffer }[] {
  const out: { head: string; raw: Buffer }[] = []
  let buf = Buffer.alloc(0)
  let body: BodyCursor | undefined
  let raw: Buffer[] = []
  let head = ''
  for (const piece of pieces) {
    buf = Buffer.concat([buf, piece])
    for (;;) {
      if (body) {
        const n = body.feed(buf, 0)
        expect(n).toBeGreaterThanOrEqual(0)
        raw.push(buf.subarray(0, n))
        buf = buf.subarray(n)
        if (!body.done) break
        out.push({ head, raw: Buffer.concat(raw) })
        body = undefined
        continue
      }
      if (buf.length === 0) break
      const r = kind === 'request' ? parseRequestHead(buf, 16384) : parseResponseHead(buf, 16384)
      if (r.kind === 'incomplete') break
      if (r.kind === 'error') throw new Error(r.reason)
      head = buf.toString('latin1', 0, r.length)
      buf = buf.subarray(r.length)
      raw = []
      const framing = r.head && 'method' in r.head ? r.head.body : responseBody(r.head as never, methods[out.length] ?? 'GET')
      if (framing.kind === 'interim' || framing.kind === 'invalid') {
        out.push({ head, raw: Buffer.alloc(0) })
        continue
      }
      body = new BodyCursor(framing)
      if (body.done) {
        out.push({ head, raw: Buffer.alloc(0) })
        body = undefined
      }
    }
  }
  expect(body).toBeUndefined()
  expect(buf.length).toBe(0)
  return out
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 })
/** The state-machine properties: seeded, so a failure replays; bounded in time on a busy machine. */
const streamRuns = { seed: 1106, numRuns: 300, interruptAfterTimeLimit: 5_000 }

describe('HTTP framing', () => {
  it('a pipelined request stream cut anywhere splits into the requests that were sent', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 5 }), cuts, (reqs, at) => {
        const wire = Buffer.concat(reqs.map((r) => r.wire))
        const got = split(cut(wire, at), 'request', [])
        expect(got.map((g) => g.head)).toEqual(reqs.map((r) => r.head))
        expect(Buffer.concat(got.map((g) => Buffer.concat([Buffer.from(g.head, 'latin1'), g.raw])))).toEqual(wire)
      }),
    )
  })

  it('a response stream cut anywhere splits into the responses, HEAD, 1xx, 204 and 304 without bodies', () => {
    fc.assert(
      fc.property(fc.array(response, { minLength: 1, maxLength: 5 }), cuts, (resps, at) => {
        const wire = Buffer.concat(resps.map((r) => r.wire))
        const got = split(cut(wire, at), 'response', resps.map((r) => r.method ?? 'GET'))
        expect(got.map((g) => g.head)).toEqual(resps.map((r) => r.head))
        expect(Buffer.concat(got.map((g) => Buffer.concat([Buffer.from(g.head, 'latin1'), g.raw])))).toEqual(wire)
      }),
    )
  })

  it('the request stream gives the same heads and body bytes, however the stream is cut and with empty lines between requests', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(request, fc.boolean()), { minLength: 1, maxLength: 5 }), cuts, (reqs, at) => {
        const wire = Buffer.concat(reqs.map(([r, lead]) => (lead ? Buffer.concat([Buffer.from('\r\n'), r.wire]) : r.wire)))
        const stream = new RequestStream()
        const got: { head: string; body: Buffer[] }[] = []
        for (const piece of cut(wire, at)) {
          stream.push(piece)
          for (let e = stream.next(); e.kind !== 'need-more'; e = stream.next()) {
            if (e.kind === 'head') got.push({ head: e.raw.toString('latin1'), body: [] })
            else if (e.kind === 'body') got[got.length - 1]!.body.push(Buffer.from(e.bytes))
            else throw new Error(`unexpected ${e.kind}`)
          }
        }
        expect(got.map((g) => g.head)).toEqual(reqs.map(([r]) => r.head))
        expect(got.map((g) => Buffer.concat(g.body))).toEqual(reqs.map(([r]) => (r.framing === 'chunked' ? r.wire.subarray(Buffer.byteLength(r.head, 'latin1')) : r.body)))
        expect([stream.hasPartialHead, stream.isInBody]).toEqual([false, false])
      }),
      streamRuns,
    )
  })

  it('the response stream ends each response owed at its last byte, however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(response, { minLength: 1, maxLength: 5 }), cuts, (all, at) => {
        // A 100 Continue precedes the answer; a trailing one would be bytes nobody is owed yet.
        const last = all.findLastIndex((r) => !r.head.startsWith('HTTP/1.1 100 '))
        fc.pre(last >= 0)
        const resps = all.slice(0, last + 1)
        const wire = Buffer.concat(resps.map((r) => r.wire))
        const finals = resps.filter((r) => !r.head.startsWith('HTTP/1.1 100 '))
        const stream = new ResponseStream()
        for (const r of finals) stream.expect(r.method ?? 'GET')
        const ends: number[] = []
        let base = 0
        for (const piece of cut(wire, at)) {
          for (let i = 0; i < piece.length; ) {
            expect(stream.pending).toBeGreaterThan(0)
            const e = stream.next(piece, i)
            if (e.kind === 'error' || e.kind === 'switching') throw new Error(`unexpected ${e.kind}`)
            expect(e.next).toBeGreaterThan(i)
            if (e.kind === 'response-end') ends.push(base + e.next)
            i = e.next
          }
          base += piece.length
        }
        let end = 0
        const expected: number[] = []
        for (const r of resps) {
          end += r.wire.length
          if (!r.head.startsWith('HTTP/1.1 100 ')) expected.push(end)
        }
        expect(ends).toEqual(expected)
        expect([stream.pending, stream.hasPartialHead]).toEqual([0, false])
      }),
      streamRuns,
    )
  })
})
