/**
 * The forward proxy's client-side state machine on its own: bytes pushed in, request heads and
 * body pieces pulled out, without sockets. Streams cut anywhere are covered by
 * test/property/http-framing.property.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { RequestStream, type RequestEvent } from '../../../src/proxy/userspace/http-request-stream.js'

/** Pulls events until the stream needs more bytes (or cannot go on), as the coordinator does. */
function drain(s: RequestStream): string[] {
  const out: string[] = []
  for (;;) {
    const e: RequestEvent = s.next()
    switch (e.kind) {
      case 'need-more':
        return out
      case 'head':
        out.push(head(e.raw.toString('latin1')))
        break
      case 'body':
        out.push(`body ${JSON.stringify(e.bytes.toString('latin1'))}${e.isLast ? ' last' : ''}`)
        break
      case 'bad-head':
        out.push(`bad-head ${e.status} ${e.reason}`)
        return out
      case 'bad-body':
        out.push('bad-body')
        return out
    }
  }
}

function feed(pieces: readonly string[]): { events: string[][]; stream: RequestStream } {
  const stream = new RequestStream()
  const events = pieces.map((p) => {
    stream.push(Buffer.from(p, 'latin1'))
    return drain(stream)
  })
  return { events, stream }
}

/** How drain shows a head: its bytes as the client sent them. */
const head = (text: string): string => `head ${JSON.stringify(text)}`
const get = (path: string): string => `GET http://10.96.0.10${path} HTTP/1.1\r\nHost: 10.96.0.10\r\n\r\n`
const chunkedPost = 'POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'

describe('request stream', () => {
  it.each<[string, readonly string[], readonly (readonly string[])[]]>([
    ['two pipelined requests in one read come out as two heads', [get('/a') + get('/b')], [[head(get('/a')), head(get('/b'))]]],
    ['a head split over reads comes out when its empty line arrives', ['GET http://a/ HTTP/1.1\r\nHo', 'st: a\r\n\r', '\n'], [[], [], [head('GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n')]]],
    ['empty lines before a request line are skipped (RFC 9112 section 2.2)', ['\r\n\r\n' + get('/a')], [[head(get('/a'))]]],
    [
      'a Content-Length body comes out in the pieces it arrived in, then the next request',
      ['POST http://a/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhe', 'llo' + get('/n')],
      [[head('POST http://a/ HTTP/1.1\r\nContent-Length: 5\r\n\r\n'), 'body "he"'], ['body "llo" last', head(get('/n'))]],
    ],
    [
      'a chunked body ends at its last chunk and trailer, not before',
      [chunkedPost + '3\r\nabc\r\n', '0\r\n\r\n'],
      [[head(chunkedPost), 'body "3\\r\\nabc\\r\\n"'], ['body "0\\r\\n\\r\\n" last']],
    ],
    ['a malformed chunk size is a bad body', [chunkedPost + 'zz\r\n'], [[head(chunkedPost), 'bad-body']]],
    ['a malformed request line is a bad head with 400', ['GET  HTTP/1.1\r\n\r\n'], [['bad-head 400 malformed request line']]],
    ['a Transfer-Encoding not ending in chunked is a bad head with 501', ['POST http://a/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'], [['bad-head 501 a request Transfer-Encoding must end in chunked']]],
    ['a head over 16 KiB is a bad head with 431', [`GET http://a/ HTTP/1.1\r\nX: ${'y'.repeat(16 * 1024)}`], [['bad-head 431 request head larger than 16384 bytes']]],
  ])('%s', (_name, pieces, expected) => {
    expect(feed(pieces).events).toEqual(expected)
  })

  it('drops what it holds after a bad head, so the next bytes start a new head', () => {
    const { stream } = feed(['BAD\r\n\r\n' + get('/after')])
    expect(stream.hasPartialHead).toBe(false)
    stream.push(Buffer.from(get('/again')))
    expect(drain(stream)).toEqual([head(get('/again'))])
  })

  it('says whether a head is under way (the header timeout) or a body (busy)', () => {
    const s = new RequestStream()
    expect([s.hasPartialHead, s.isInBody]).toEqual([false, false])
    s.push(Buffer.from('POST http://a/ HTTP/1.1\r\n'))
    expect(drain(s)).toEqual([])
    expect([s.hasPartialHead, s.isInBody]).toEqual([true, false])
    s.push(Buffer.from('Content-Length: 2\r\n\r\nx'))
    drain(s)
    expect([s.hasPartialHead, s.isInBody]).toEqual([false, true])
    s.push(Buffer.from('y'))
    drain(s)
    expect([s.hasPartialHead, s.isInBody]).toEqual([false, false])
  })

  it('hands everything after a head to a tunnel, body framing ignored, and is empty after', () => {
    const s = new RequestStream()
    s.push(Buffer.from('CONNECT 10.96.0.10:443 HTTP/1.1\r\nContent-Length: 3\r\n\r\n\x16\x03\x01 and more'))
    expect(s.next().kind).toBe('head')
    expect(s.takeRest().toString('latin1')).toBe('\x16\x03\x01 and more')
    expect([s.hasPartialHead, s.isInBody, s.next().kind]).toEqual([false, false, 'need-more'])
  })

  it('leaves the bytes of a request after the one handed out until asked (a request waiting its turn)', () => {
    const s = new RequestStream()
    s.push(Buffer.from(get('/a') + get('/b')))
    expect(s.next().kind).toBe('head')
    // Not asked again yet: the second request's bytes are held, not lost.
    expect(s.hasPartialHead).toBe(true)
    const e = s.next()
    expect(e.kind === 'head' ? e.head.target : e.kind).toBe('http://10.96.0.10/b')
  })
})
