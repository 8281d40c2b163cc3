/**
 * The HTTP forward proxy with a hand-in hop (the kernel dataplane): plain requests open their pod
 * link through the hop, once per destination of a client connection (keep-alive requests share
 * it), and the hop's verdicts become the proxy's answers: refused or unreachable 502, dropped held.
 */
import { createServer, type Server } from 'node:http'
import { connect, createConnection, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EndpointSlice, Node, Pod, Service } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { startNodeAgents, type NodeAgents } from '../../../src/node/index.js'
import type { HandInPortRequest, HandInPortResult } from '../../../src/proxy/userspace/index.js'
import { realTimers } from '../../../src/runtime/index.js'

const node: Node = {
  apiVersion: 'v1', kind: 'Node',
  metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' } },
  spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
  status: { addresses: [{ type: 'InternalIP', address: '192.168.77.10' }] },
}
const service = (name: string, ip: string): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } })

let agents: NodeAgents
let pod: Server
let podPort = 0
const opened: HandInPortRequest[] = []

beforeAll(async () => {
  pod = createServer((req, res) => res.end(`pod ${req.url} host=${req.headers.host}`))
  await new Promise<void>((r) => pod.listen(0, '127.0.0.1', () => r()))
  podPort = (pod.address() as { port: number }).port
  const services = new MemoryObjectSource<Service>()
  for (const [name, ip] of [['web', '10.96.0.11'], ['dropped', '10.96.0.12'], ['refused', '10.96.0.13']] as const) services.upsert(service(name, ip))
  agents = await startNodeAgents({
    nodes: [node], pods: new MemoryObjectSource<Pod>(), services, endpointSlices: new MemoryObjectSource<EndpointSlice>(),
    status: { async writeStatus() {}, async finalizeDeletion() {} },
    timers: realTimers, clock: { now: () => Date.now() }, random: { next: () => 0.5 },
    nodeLoopbackPrefix: '127.0.0.', httpProxyPort: 0, minSyncPeriodMs: 10,
  })
  // The hop's stand-in: 10.96.0.11 connects (to the loopback pod), .12 is dropped, .13 refused.
  agents.proxy.dataplane.useHandIn({
    async open(r): Promise<HandInPortResult> {
      opened.push(r)
      if (r.host === '10.96.0.12') return { kind: 'dropped', reason: 'the kernel answered ETIMEDOUT' }
      if (r.host === '10.96.0.13') return { kind: 'refused', reason: 'the kernel answered ECONNREFUSED' }
      const s = createConnection({ host: '127.0.0.1', port: podPort })
      await new Promise((ok) => s.once('connect', ok))
      return { kind: 'connected', socket: s }
    },
  })
  await Promise.all([...agents.proxiers.values()].map((p) => p.settled()))
  await agents.proxy.refresh()
}, 30_000)

afterAll(async () => {
  await agents.stop()
  pod.close()
})

/** Sends raw bytes to the proxy; resolves with what came back within `ms` (and whether it closed). */
function exchange(bytes: string, ms: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const c: Socket = connect(agents.proxy.ports.http!, '127.0.0.1', () => c.write(bytes))
    let text = ''
    let closed = false
    c.on('data', (d) => (text += d.toString()))
    c.on('close', () => (closed = true))
    c.on('error', () => {})
    setTimeout(() => {
      c.destroy()
      resolve({ text, closed })
    }, ms)
  })
}

describe('HTTP forward proxy through the hand-in hop', () => {
  it('opens one hop connection for keep-alive requests to one destination, as entry "http proxy" of the client\'s node', async () => {
    opened.length = 0
    const get = (path: string): string => `GET http://10.96.0.11${path} HTTP/1.1\r\nHost: 10.96.0.11\r\n\r\n`
    const r = await exchange(get('/a') + get('/b'), 500)
    expect(r.text).toContain('pod /a host=10.96.0.11')
    expect(r.text).toContain('pod /b host=10.96.0.11')
    expect(opened).toHaveLength(1)
    expect(opened[0]).toMatchObject({ entry: 'http proxy', node: 'node-a', host: '10.96.0.11', port: 80 })
  })

  it('answers 502 when the kernel refuses, and holds the client without an answer when it drops', async () => {
    const refused = await exchange('GET http://10.96.0.13/ HTTP/1.1\r\nHost: 10.96.0.13\r\n\r\n', 500)
    expect(refused.text).toMatch(/^HTTP\/1\.1 502 /)
    expect(refused.text).toContain('ECONNREFUSED')
    const dropped = await exchange('GET http://10.96.0.12/ HTTP/1.1\r\nHost: 10.96.0.12\r\n\r\n', 500)
    expect(dropped).toEqual({ text: '', closed: false })
  })
})
