/**
 * The hand-in hop's bookkeeping over a stand-in agent: it dials from the source address that
 * routes via the requested node, logs the endpoint the node's conntrack reply tuple names, reads
 * a node's table once for all lookups waiting at the time, and maps the kernel's errnos to the
 * entry points' verdicts.
 */
import { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { DialError, handInFailure, handInSources, kernelHandInOver, type DialRequest, type HandedConnection } from '../../../src/netns/index.js'
import { ConnectionLog } from '../../../src/proxy/userspace/index.js'

const topology = {
  rootless: true,
  outsideHolder: 1,
  nodeHolders: new Map([['node-a', 2], ['node-b', 3]]),
  sources: new Map([['node-a', '192.168.77.1'], ['node-b', '192.168.77.2']]),
}

function standIn(answer: (to: DialRequest) => HandedConnection | DialError): { dials: DialRequest[]; dial(to: DialRequest): Promise<HandedConnection>; stop(): Promise<void> } {
  const dials: DialRequest[] = []
  return {
    dials,
    dial: async (to) => {
      dials.push(to)
      const a = answer(to)
      if (a instanceof DialError) throw a
      return a
    },
    stop: async () => {},
  }
}

describe('kernel hand-in hop', () => {
  it('dials via the node and logs the endpoint conntrack names', async () => {
    let port = 40000
    const agent = standIn((to) => ({ socket: new Socket(), local: { address: to.localAddress!, port: port++ }, remote: { address: to.host, port: to.port } }))
    const reads: string[] = []
    const log = new ConnectionLog()
    const hop = kernelHandInOver(agent, topology, {
      log,
      clock: { now: () => 1000 },
      podByIP: (ip) => (ip === '10.244.0.3' ? 'default/web-1' : undefined),
      followConntrack: () => undefined,
      readConntrack: async (node) => {
        reads.push(node)
        return [40000, 40001, 40002].map((p) => `tcp 6 119 ESTABLISHED src=192.168.77.1 dst=192.168.77.10 sport=${p} dport=30080 src=10.244.0.${p - 39997} dst=10.244.0.1 sport=8080 dport=${p + 1} [ASSURED] mark=0 use=1`).join('\n')
      },
    })
    const results = await Promise.all([0, 1, 2].map(() => hop.open({ entry: 'nodeport 127.0.10.1:30080', client: '127.0.0.1:5000', node: 'node-a', host: '192.168.77.10', port: 30080 })))
    expect(agent.dials.map((d) => d.localAddress)).toEqual(['192.168.77.1', '192.168.77.1', '192.168.77.1'])
    const endpoints = await Promise.all(results.map((r) => (r.kind === 'connected' ? r.endpoint : undefined)))
    expect(endpoints).toEqual([{ address: '10.244.0.3', port: 8080 }, { address: '10.244.0.4', port: 8080 }, { address: '10.244.0.5', port: 8080 }])
    // The first read served one lookup; the two that queued meanwhile shared the next.
    expect(reads).toEqual(['node-a', 'node-a'])
    expect(log.recent()[0]).toEqual({ at: 1000, entry: 'nodeport 127.0.10.1:30080', client: '127.0.0.1:5000', destination: '192.168.77.10 port 30080/tcp', node: 'node-a', verdict: 'forward', endpoint: '10.244.0.3:8080', seen: '10.244.0.1:40001', pod: 'default/web-1' })
    for (const r of results) if (r.kind === 'connected') r.socket.destroy()
  })

  it('takes the endpoint from the NEW event when it came, and reads the table only when it did not', async () => {
    let port = 50000
    const agent = standIn((to) => ({ socket: new Socket(), local: { address: to.localAddress!, port: port++ }, remote: { address: to.host, port: to.port } }))
    const reads: string[] = []
    const started: string[] = []
    const hop = kernelHandInOver(agent, topology, {
      log: new ConnectionLog(),
      clock: { now: () => 0 },
      followConntrack: (node) => {
        started.push(node)
        return {
          find: async (t) => (t.sport === 50000 ? { proto: 'tcp', original: t, reply: { src: '10.244.1.9', dst: '192.168.77.11', sport: 80, dport: 1 }, flags: [] } : undefined),
          stop: () => {},
        }
      },
      readConntrack: async (node) => {
        reads.push(node)
        return 'tcp 6 119 ESTABLISHED src=192.168.77.2 dst=10.96.0.1 sport=50001 dport=80 src=10.244.1.7 dst=192.168.77.11 sport=80 dport=2 [ASSURED] mark=0 use=1'
      },
    })
    const endpoints = []
    for (let i = 0; i < 2; i++) {
      const r = await hop.open({ entry: 'e', client: 'c', node: 'node-b', host: '10.96.0.1', port: 80 })
      endpoints.push(r.kind === 'connected' ? await r.endpoint : r.kind)
      if (r.kind === 'connected') r.socket.destroy()
    }
    expect(endpoints).toEqual([{ address: '10.244.1.9', port: 80 }, { address: '10.244.1.7', port: 80 }])
    expect(reads).toEqual(['node-b'])
    // One follower per node, started once.
    expect(started).toEqual(['node-b'])
  })

  it('starts a node\'s follower again once it ended, but not for every connection', async () => {
    const agent = standIn((to) => ({ socket: new Socket(), local: { address: to.localAddress!, port: 1 }, remote: { address: to.host, port: to.port } }))
    const stopped: number[] = []
    let started = 0
    const hop = kernelHandInOver(agent, topology, {
      log: new ConnectionLog(),
      clock: { now: () => 0 },
      followConntrack: () => {
        const n = ++started
        return { isRunning: false, find: async () => undefined, stop: () => void stopped.push(n) }
      },
      readConntrack: async () => '',
    })
    const t0 = Date.now()
    for (let i = 0; i < 3; i++) await hop.open({ entry: 'e', client: 'c', node: 'node-a', host: '10.96.0.1', port: 80 })
    // Within the restart interval the dead follower is kept (and lookups fall back to table reads).
    if (Date.now() - t0 < 5000) expect(started).toBe(1)
    await hop.stop()
    expect(stopped).toContain(1)
  })

  it('maps the kernel errnos and logs them', async () => {
    const log = new ConnectionLog()
    const codes: Record<number, string> = { 1: 'ECONNREFUSED', 2: 'ETIMEDOUT', 3: 'EHOSTUNREACH' }
    const agent = standIn((to) => new DialError(codes[to.port]!, 'x'))
    const hop = kernelHandInOver(agent, topology, { log, clock: { now: () => 5 }, readConntrack: async () => '', followConntrack: () => undefined })
    const kinds = []
    for (const port of [1, 2, 3]) kinds.push(await hop.open({ entry: 'socks5', client: 'c', node: 'node-b', host: '10.96.0.11', port }))
    expect(kinds.map((k) => k.kind)).toEqual(['refused', 'dropped', 'unreachable'])
    expect(log.recent().map((r) => r.verdict)).toEqual(['reject', 'drop', 'unreachable'])
    expect(log.recent()[1]!.reason).toContain('ETIMEDOUT')
    // A failure of the hop itself is not reported as the kernel's answer.
    const bad = kernelHandInOver(standIn(() => new DialError('EINVAL', 'to.address: must be an IPv4 or IPv6 address literal')), topology, { log, clock: { now: () => 5 }, followConntrack: () => undefined })
    const r = await bad.open({ entry: 'socks5', client: 'c', node: 'node-a', host: 'web.default', port: 80 })
    expect(r).toMatchObject({ kind: 'refused', code: 'EINVAL', reason: expect.stringContaining('hand-in hop failed: to.address') })
    // A node the topology has no route for never reaches the agent.
    expect(await hop.open({ entry: 'socks5', client: 'c', node: 'node-z', host: '10.96.0.11', port: 80 })).toMatchObject({ kind: 'unreachable' })
    expect(agent.dials).toHaveLength(3)
    expect([handInFailure('ENETUNREACH'), handInFailure('ECONNRESET')]).toEqual(['unreachable', 'refused'])
  })

  it('takes the external host address that routes via each node from the lab plan', () => {
    const clients = [
      { kind: 'lan' as const, via: 'node-a', address: '192.168.77.1' },
      { kind: 'range' as const, via: 'node-a', address: '203.0.113.10' },
      { kind: 'lan' as const, via: 'node-b', address: '192.168.77.2' },
    ]
    expect(handInSources({ external: { netns: 'x', address: '192.168.77.1', clients } as never })).toEqual(new Map([['node-a', '192.168.77.1'], ['node-b', '192.168.77.2']]))
  })
})
