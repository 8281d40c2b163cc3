/**
 * Issue 10 item 8: a SOCKS5 hostname (or SOCKS user name) with a newline or an ANSI escape went
 * into the log raw, so a client could forge log lines and drive the terminal. Every entry point
 * log line and connection record now carries such text escaped.
 */
import { connect } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EndpointSlice, Node, Pod, Service } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { realTimers } from '../../../src/runtime/index.js'
import { printable } from '../../../src/printable.js'
import { startNodeAgents, type NodeAgents } from '../../../src/node/index.js'

const node: Node = {
  apiVersion: 'v1', kind: 'Node',
  metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' } },
  spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
  status: { addresses: [{ type: 'InternalIP', address: '192.168.77.10' }] },
}

let agents: NodeAgents
const lines: string[] = []

beforeAll(async () => {
  agents = await startNodeAgents({
    nodes: [node], pods: new MemoryObjectSource<Pod>(), services: new MemoryObjectSource<Service>(), endpointSlices: new MemoryObjectSource<EndpointSlice>(),
    status: { async writeStatus() {}, async finalizeDeletion() {} },
    timers: realTimers, clock: { now: () => Date.now() }, random: { next: () => 0.5 },
    nodeLoopbackPrefix: '127.0.96.', socksPort: 0, httpProxyPort: 0, minSyncPeriodMs: 10,
    log: (line) => lines.push(line),
  })
}, 30_000)

afterAll(async () => {
  await agents.stop()
})

/** SOCKS5 CONNECT to a domain name (ATYP 3); resolves with the reply code. */
function socksConnect(host: string, user?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ port: agents.proxy.ports.socks!, host: '127.0.0.1' })
    const name = Buffer.from(host, 'latin1')
    let stage = 0
    s.on('data', (d) => {
      if (stage === 0 && user !== undefined) {
        const u = Buffer.from(user, 'latin1')
        s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([1, 0x78])]))
        stage = 1
        return
      }
      if (stage <= 1 && d.length === 2) {
        if (stage === 1 && d[1] !== 0) { resolve(-1); s.destroy(); return }
        s.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([0, 80])]))
        stage = 2
        return
      }
      resolve(d[1] ?? -1)
      s.destroy()
    })
    s.on('error', reject)
    s.on('connect', () => s.write(Buffer.from(user === undefined ? [5, 1, 0] : [5, 1, 2])))
  })
}

const controls = /[\u0000-\u001f\u007f-\u009f]/

describe('client-supplied text in logs', () => {
  it('a SOCKS5 hostname and user name with a newline and ANSI escapes are logged escaped, on one line', async () => {
    const forged = 'evil.example\nkpe: forged line \u001b[2J\u001b[31mred'
    expect(await socksConnect(forged)).not.toBe(0)
    await socksConnect('web.default.svc.cluster.local', 'x\r\nforged user\u001b[0m')
    const mine = lines.filter((l) => l.includes('evil.example') || l.includes('forged user'))
    expect(mine.length).toBeGreaterThanOrEqual(2)
    for (const l of mine) expect(l).not.toMatch(controls)
    expect(mine.join('\n')).toContain('evil.example\\nkpe: forged line \\u001b[2J')
    const records = agents.proxy.log.recent().filter((r) => JSON.stringify(r).includes('evil.example') || JSON.stringify(r).includes('forged user'))
    expect(records.length).toBeGreaterThanOrEqual(2)
    for (const r of records) for (const v of Object.values(r)) if (typeof v === 'string') expect(v).not.toMatch(controls)
  })

  it('printable leaves no control character and changes nothing else (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      const p = printable(s)
      expect(p).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/)
      expect(printable(p)).toBe(p)
      if (!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(s)) expect(p).toBe(s)
    }), { seed: 8, numRuns: 2000 })
  })
})
