/**
 * The agents endpoint (kpe up's /metrics, /rules, /connections, /forward): a client that resets
 * an upgrade after the answer leaves it alive, and a web page (foreign Host or Origin) is refused.
 */
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import type { NodeAgents } from '../../../src/node/index.js'
import { ConnectionLog } from '../../../src/proxy/userspace/index.js'
import { startAgentServer, type AgentServer } from '../../../src/up/agent-server.js'
import { ForwardRefusedError, openForward } from '../../../src/up/forward-client.js'
import { EphemeralPorts } from '../../../src/up/ephemeral-ports.js'
import { PodNetworkPortForward } from '../../../src/up/port-forward-backend.js'
import { upgradeThenReset } from '../../helpers/upgrade-then-reset.js'
import { recordUncaught } from '../../helpers/uncaught.js'

const uncaught = recordUncaught()

let server: AgentServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const agents = { proxiers: new Map(), executors: new Map(), proxy: { log: new ConnectionLog(), dataplane: { limits: { idleTimeoutMs: 1000 } } } } as unknown as NodeAgents
const forward = { objects: { service: () => undefined, pods: () => [] }, dialer: new PodNetworkPortForward(new EphemeralPorts()) }

function get(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, setHost: headers['host'] === undefined }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject)
    req.end()
  })
}

describe('agents endpoint', () => {
  it('survives upgrade requests reset after the answer, with and without /forward', async () => {
    for (const fwd of [undefined, forward]) {
      server = await startAgentServer(agents, 0, fwd)
      const port = Number(new URL(server.url).port)
      for (let i = 0; i < 5; i++) {
        expect(await upgradeThenReset(port, '/nope')).toMatch(/ 404 /)
        expect(await upgradeThenReset(port, '/forward?kind=pod&ns=default&name=x&port=80')).toMatch(/ 40\d /)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(uncaught).toEqual([])
      expect(await get(port, '/connections', {})).toBe(200)
      await server.close()
      server = undefined
    }
  })

  it('refuses a foreign Host or Origin with 403, on requests and upgrades', async () => {
    server = await startAgentServer(agents, 0, forward)
    const port = Number(new URL(server.url).port)
    expect(await get(port, '/connections', { host: `attacker.example:${port}` })).toBe(403)
    expect(await get(port, '/connections', { origin: 'http://attacker.example' })).toBe(403)
    expect(await get(port, '/connections', { host: `localhost:${port}` })).toBe(200)
    expect(await upgradeThenReset(port, '/forward?kind=pod&ns=default&name=x&port=80', { Origin: 'http://attacker.example' })).toMatch(/ 403 /)
  })

  it('kpe port-forward\'s own client passes the Host check', async () => {
    server = await startAgentServer(agents, 0, forward)
    const refused = await openForward(server.url, { kind: 'pod', namespace: 'default', name: 'missing', port: '80' }, 'test').catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ForwardRefusedError)
    expect((refused as ForwardRefusedError).status).toBe(404)
  })
})
