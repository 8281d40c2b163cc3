/**
 * The agents endpoint against hostile request lines: odd /rules/NODE and /nodes/NODE/stop names
 * (bad percent-encoding, absolute URLs, huge paths), random methods. Every request gets an HTTP
 * answer, nothing throws out of the server, and the endpoint still answers afterwards.
 */
import { connect } from 'node:net'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { NodeAgents } from '../../../src/node/index.js'
import { ConnectionLog } from '../../../src/proxy/userspace/index.js'
import { startAgentServer, type AgentServer } from '../../../src/up/agent-server.js'
import { recordUncaught } from '../../helpers/uncaught.js'

const uncaught = recordUncaught()

let server: AgentServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const stopped: string[] = []
const agents = {
  proxiers: new Map(), executors: new Map(), kubelets: new Map([['node-a', {}]]),
  stoppedNodes: () => [...stopped], stopNode: async (n: string) => { stopped.push(n) }, startNode: async () => {},
  proxy: { log: new ConnectionLog(), dataplane: { limits: { idleTimeoutMs: 1000 } } },
} as unknown as NodeAgents

/** Sends one raw request line and returns the status line of the answer ('' when the socket closed without one). */
function raw(port: number, method: string, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    let got = ''
    s.on('data', (d: Buffer) => { got += d.toString('latin1') })
    s.on('error', reject)
    s.on('close', () => resolve(got.split('\r\n')[0] ?? ''))
    s.end(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
  })
}

describe('agents endpoint input', () => {
  it('answers bad percent-encoding in /rules/NODE and /nodes/NODE/stop with 400 naming the path', async () => {
    server = await startAgentServer(agents, 0)
    const port = Number(new URL(server.url).port)
    expect(await raw(port, 'GET', '/rules/%E0%A4%A')).toMatch(/^HTTP\/1\.1 400 /)
    expect(await raw(port, 'POST', '/nodes/%E0/stop')).toMatch(/^HTTP\/1\.1 400 /)
    expect(await raw(port, 'GET', 'http://[::1')).toMatch(/^HTTP\/1\.1 400 /)
    expect(uncaught).toEqual([])
    expect(stopped).toEqual([])
    expect(await raw(port, 'GET', '/connections')).toMatch(/^HTTP\/1\.1 200 /)
  })

  it('survives random request targets and methods (seeded)', async () => {
    server = await startAgentServer(agents, 0)
    const port = Number(new URL(server.url).port)
    const segment = fc.stringMatching(/^[%A-Za-z0-9._~\-:[\]@!$&'()*+,;=]{0,40}$/)
    const target = fc.oneof(
      segment.map((s) => `/rules/${s}`),
      segment.map((s) => `/nodes/${s}/stop`),
      segment.map((s) => `/nodes/${s}/start`),
      segment.map((s) => `http://${s}/rules/x`),
      fc.constantFrom(`/rules/${'a'.repeat(60_000)}`, '/rules/', '/nodes//stop', '/%', '*'),
    )
    await fc.assert(fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), target, async (method, t) => {
      const status = await raw(port, method, t)
      // Node's parser may refuse a target outright (400/431); either way an answer comes back.
      expect(status).toMatch(/^HTTP\/1\.1 \d{3} /)
      expect(status).not.toMatch(/ 500 /)
    }), { seed: 17_1, numRuns: 150, interruptAfterTimeLimit: 20_000 })
    expect(uncaught).toEqual([])
    expect(stopped.every((n) => n === 'node-a')).toBe(true)
    expect(await raw(port, 'GET', '/connections')).toMatch(/^HTTP\/1\.1 200 /)
  }, 30_000)
})
