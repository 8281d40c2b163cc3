/**
 * The namespace agent's messages: every valid request and event survives a JSON round trip
 * unchanged, and anything else (random values, single corrupted fields) is rejected with the
 * path of the bad field, never thrown.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { errnoOf, parseAgentEvent, parseAgentRequest, type AgentEvent, type AgentRequest } from '../../../src/netns/agent-protocol.js'

const seed = 16_3
const ipv4 = fc.ipV4()
const ip = fc.oneof(ipv4, fc.ipV6())
const port = fc.integer({ min: 1, max: 65535 })
const id = fc.nat()
const addressPort = fc.record({ address: ip, port })

const request: fc.Arbitrary<AgentRequest> = fc.oneof(
  fc.record({ op: fc.constant('listen' as const), id, at: fc.record({ address: ip, port: fc.integer({ min: 0, max: 65535 }) }) }),
  fc.record({ op: fc.constant('unlisten' as const), id }),
  fc.record({ op: fc.constant('bindUdp' as const), id, at: fc.record({ address: ip, port: fc.integer({ min: 0, max: 65535 }) }) }),
  fc.record(
    { op: fc.constant('dial' as const), id, to: fc.record({ address: ipv4, port }), localAddress: ipv4, localPort: port, timeoutMs: fc.integer({ min: 1, max: 600_000 }) },
    { requiredKeys: ['op', 'id', 'to', 'timeoutMs'] },
  ),
)

const event: fc.Arbitrary<AgentEvent> = fc.oneof(
  fc.record({ op: fc.constant('ready' as const), pid: id }),
  fc.record({ op: fc.constant('listening' as const), id, local: addressPort }),
  fc.record({ op: fc.constant('unlistened' as const), id }),
  fc.record({ op: fc.constant('udpBound' as const), id, local: addressPort }),
  fc.record({ op: fc.constant('udpReleased' as const), id }),
  fc.record({ op: fc.constantFrom('connection' as const, 'dialed' as const), id, local: addressPort, remote: addressPort }),
  fc.record({ op: fc.constant('failed' as const), id, code: fc.constantFrom('ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH'), message: fc.string({ maxLength: 200 }) }),
)

describe('namespace agent messages', () => {
  it('valid requests and events round-trip through JSON unchanged', () => {
    fc.assert(fc.property(request, (r) => {
      expect(parseAgentRequest(JSON.parse(JSON.stringify(r)))).toEqual({ ok: true, value: r })
    }), { seed, numRuns: 300 })
    fc.assert(fc.property(event, (e) => {
      expect(parseAgentEvent(JSON.parse(JSON.stringify(e)))).toEqual({ ok: true, value: e })
    }), { seed, numRuns: 300 })
  })

  it('arbitrary values never throw; they parse or are rejected with a field', () => {
    fc.assert(fc.property(fc.anything({ withBigInt: true, withNullPrototype: true, withMap: true }), (v) => {
      for (const r of [parseAgentRequest(v), parseAgentEvent(v)]) if (!r.ok) expect(r.error.field).not.toBe('')
    }), { seed, numRuns: 1000 })
  })

  it('one corrupted field is rejected, naming that field', () => {
    const bad = fc.constantFrom<[string, unknown]>(['address', '10.0.0.300'], ['address', 'web.default'], ['address', 7], ['port', 70000], ['port', -1], ['port', 1.5], ['port', '80'])
    fc.assert(fc.property(request.filter((r) => r.op === 'dial'), bad, fc.constantFrom('to'), (r, [key, value], outer) => {
      const m = JSON.parse(JSON.stringify(r)) as Record<string, Record<string, unknown>>
      m[outer]![key] = value
      const res = parseAgentRequest(m)
      expect(res.ok).toBe(false)
      if (!res.ok) expect(res.error.field).toBe(`${outer}.${key}`)
    }), { seed, numRuns: 200 })
  })

  it('rejects what the agent must not do, with the field', () => {
    const field = (m: unknown): string | undefined => {
      const r = parseAgentRequest(m)
      return r.ok ? undefined : r.error.field
    }
    expect(field({ op: 'dial', id: 1, to: { address: '10.0.0.1', port: 0 } })).toBe('to.port')
    expect(field({ op: 'dial', id: 1, to: { address: '10.0.0.1', port: 80 }, timeoutMs: 0 })).toBe('timeoutMs')
    expect(field({ op: 'dial', id: 1, to: { address: '10.0.0.1', port: 80 }, localAddress: 'fd00::1' })).toBe('localAddress')
    expect(field({ op: 'listen', id: -1, at: { address: '0.0.0.0', port: 80 } })).toBe('id')
    expect(field({ op: 'exec', id: 1 })).toBe('op')
    expect(field(null)).toBe('(message)')
    // A missing timeout gets the default rather than waiting forever.
    const r = parseAgentRequest({ op: 'dial', id: 1, to: { address: '10.0.0.1', port: 80 } })
    expect(r.ok && r.value.op === 'dial' && r.value.timeoutMs).toBe(10_000)
    const e = parseAgentEvent({ op: 'failed', id: 3, code: 'connection refused', message: 'x' })
    expect(e.ok ? undefined : e.error.field).toBe('code')
  })

  it('errnoOf keeps errno names and maps anything else to EIO', () => {
    expect(errnoOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED')
    expect(errnoOf(Object.assign(new Error('x'), { code: 'ERR_SOCKET_CLOSED' }))).toBe('ERR_SOCKET_CLOSED')
    expect(errnoOf(new Error('x'))).toBe('EIO')
    expect(errnoOf(undefined)).toBe('EIO')
  })
})
