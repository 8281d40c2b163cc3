/**
 * The responses on one pod link on their own: which bytes end which response, given the methods
 * of the requests sent, without sockets. Streams cut anywhere are covered by
 * test/property/http-framing.property.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { ResponseStream } from '../../../src/proxy/userspace/http-response-stream.js'

/**
 * Feeds each piece as the coordinator does (step by step while a response is owed) and lists
 * every step as "kind@offset" in the whole stream; bytes left once nothing is owed as "unasked@offset".
 */
function follow(methods: readonly string[], pieces: readonly string[]): { steps: string[]; stream: ResponseStream } {
  const stream = new ResponseStream()
  for (const m of methods) stream.expect(m)
  const steps: string[] = []
  let base = 0
  for (const p of pieces) {
    const chunk = Buffer.from(p, 'latin1')
    let i = 0
    while (i < chunk.length) {
      if (stream.pending === 0) {
        steps.push(`unasked@${base + i}`)
        break
      }
      const e = stream.next(chunk, i)
      if (e.kind === 'error') {
        steps.push(`error ${e.reason}`)
        break
      }
      steps.push(`${e.kind}@${base + e.next}`)
      i = e.next
      if (e.kind === 'switching') break
    }
    base += chunk.length
  }
  return { steps, stream }
}

const ok = (body: string): string => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`

describe('response stream', () => {
  it.each<[string, readonly string[], readonly string[], readonly string[]]>([
    ['two pipelined responses in one read end where each one ends', ['GET', 'GET'], [ok('a') + ok('bb')], ['partial@38', 'response-end@39', 'partial@77', 'response-end@79']],
    ['a response to HEAD has no body, whatever its Content-Length says', ['HEAD'], ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'], ['response-end@38']],
    ['204 and 304 have no body', ['GET', 'GET'], ['HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n'], ['response-end@27', 'response-end@56']],
    ['a 100 Continue is not the answer: the response after it is', ['POST'], ['HTTP/1.1 100 Continue\r\n\r\n' + ok('x')], ['partial@25', 'partial@63', 'response-end@64']],
    ['a 101 ends HTTP at its empty line, and nothing more is owed', ['GET'], ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n\r\nraw bytes'], ['switching@51']],
    ['a head split over reads is followed across them', ['GET'], ['HTTP/1.1 200 OK\r\nCont', 'ent-Length: 1\r\n\r\nz'], ['partial@21', 'partial@38', 'response-end@39']],
    ['a chunked response ends after its last chunk', ['GET'], ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n', '0\r\n\r\n'], ['partial@47', 'partial@54', 'response-end@59']],
    ['bytes after the last response owed are unasked', ['GET'], [ok('a') + 'HTTP/1.1 200 OK'], ['partial@38', 'response-end@39', 'unasked@39']],
    ['a malformed chunk is an error', ['GET'], ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n'], ['partial@47', 'error malformed chunked response body']],
    ['conflicting Content-Lengths are an error', ['GET'], ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'], ['error invalid Content-Length in the response']],
    ['a malformed status line is an error', ['GET'], ['HTTP/1.1 abc\r\n\r\n'], ['error malformed status line']],
  ])('%s', (_name, methods, pieces, expected) => {
    expect(follow(methods, pieces).steps).toEqual(expected)
  })

  it('copies a partial head: the read buffer it came in may be reused for the next read', () => {
    const s = new ResponseStream()
    s.expect('GET')
    const reused = Buffer.from('HTTP/1.1 200 OK\r\nContent-Len', 'latin1')
    expect(s.next(reused, 0)).toEqual({ kind: 'partial', next: reused.length })
    reused.fill(0x78)
    const rest = Buffer.from('gth: 0\r\n\r\n', 'latin1')
    expect([s.next(rest, 0), s.pending]).toEqual([{ kind: 'response-end', next: rest.length }, 0])
  })

  it('counts a close as the end of a response delimited by the close, and only then', () => {
    const untilClose = follow(['GET'], ['HTTP/1.1 200 OK\r\n\r\nsome body'])
    expect(untilClose.steps).toEqual(['partial@19', 'partial@28'])
    expect([untilClose.stream.endByClose(), untilClose.stream.pending]).toEqual([true, 0])
    const withLength = follow(['GET'], ['HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsome'])
    expect([withLength.stream.endByClose(), withLength.stream.pending]).toEqual([false, 1])
    const twoOwed = follow(['GET', 'GET'], ['HTTP/1.1 200 OK\r\n\r\nsome body'])
    expect(twoOwed.stream.endByClose()).toBe(false)
  })

  it('says when a head is under way', () => {
    const { stream } = follow(['GET'], ['HTTP/1.1 200'])
    expect([stream.hasPartialHead, stream.pending]).toEqual([true, 1])
  })
})
