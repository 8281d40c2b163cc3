/**
 * Issue 10 item 7: 1,024 idle connections filled a NodePort listener for its 300 s idle timeout,
 * because every accepted connection was forwarded at once and counted against the listener's
 * cap until the idle timeout, whether or not a byte ever crossed it. Now a connection that has
 * carried nothing gives its slot to a newcomer and is closed after the first-byte timeout; the
 * SOCKS5 entry point does the same for clients still in their handshake.
 */
import { createServer, type Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EndpointSlice, Node, Pod, Service } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { realTimers } from '../../../src/runtime/index.js'
import { startNodeAgents, type NodeAgents } from '../../../src/node/index.js'

const node: Node = {
  apiVersion: 'v1', kind: 'Node',
  metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' } },
  spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
  status: { addresses: [{ type: 'InternalIP', address: '192.168.77.10' }] },
}
const nodeAddress = '127.0.97.1'
const nodePort = 30000 + Math.floor(Math.random() * 2000)
const cap = 16
const firstByteMs = 400

let agents: NodeAgents
let backend: Server
const clients: Socket[] = []

beforeAll(async () => {
  backend = createServer((_req, res) => res.end('hello from the pod'))
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()))
  const services = new MemoryObjectSource<Service>()
  const slices = new MemoryObjectSource<EndpointSlice>()
  services.upsert({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort }] } })
  slices.upsert({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.10'], nodeName: 'node-a', conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  })
  agents = await startNodeAgents({
    nodes: [node], pods: new MemoryObjectSource<Pod>(), services, endpointSlices: slices,
    status: { async writeStatus() {}, async finalizeDeletion() {} },
    timers: realTimers, clock: { now: () => Date.now() }, random: { next: () => 0.5 },
    nodeLoopbackPrefix: '127.0.97.', socksPort: 0, httpProxyPort: 0, minSyncPeriodMs: 10,
    limits: { maxConnections: cap, headerTimeoutMs: firstByteMs },
  })
  agents.network.set('10.244.0.10', 8080, 'tcp', { local: { address: '127.0.0.1', port: (backend.address() as { port: number }).port }, pod: 'default/web-0', node: 'node-a' })
  await Promise.all([...agents.proxiers.values()].map((p) => p.settled()))
  await agents.proxy.refresh()
}, 30_000)

afterAll(async () => {
  for (const c of clients) c.destroy()
  await agents.stop()
  backend.closeAllConnections()
  backend.close()
})

function idle(port: number, host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host }, () => resolve(s))
    s.on('error', () => {})
    s.once('error', reject)
    clients.push(s)
  })
}

function closed(s: Socket): Promise<number> {
  const started = Date.now()
  return new Promise((resolve) => (s.destroyed ? resolve(0) : s.once('close', () => resolve(Date.now() - started))))
}

/** One HTTP request over a fresh connection through the NodePort; the pod's answer. */
function get(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port: nodePort, host: nodeAddress }, () => s.write(`GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))
    let text = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => { text += d })
    s.on('end', () => resolve(text))
    s.on('error', reject)
  })
}

describe('entry point connection caps', () => {
  it('a NodePort full of silent connections still serves a real client, and the silent ones are closed after the first-byte timeout', async () => {
    expect(agents.proxy.nodePortListeners()).toContain(`${nodeAddress}:${nodePort}/tcp`)
    const silent = await Promise.all(Array.from({ length: cap * 2 }, () => idle(nodePort, nodeAddress)))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await get()).toMatch(/hello from the pod$/)
    // The newest silent ones still hold slots; none outlives the first-byte timeout by much.
    const lifetimes = await Promise.all(silent.map(closed))
    expect(Math.max(...lifetimes)).toBeLessThan(firstByteMs * 4)
  })

  it('SOCKS5: clients that never finish their handshake do not lock a real client out', async () => {
    const port = agents.proxy.ports.socks!
    await Promise.all(Array.from({ length: cap * 2 }, () => idle(port, '127.0.0.1')))
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1' }, () => s.write(Buffer.from([5, 1, 0])))
      s.once('data', (d) => { resolve(d); s.destroy() })
      s.on('error', reject)
    })
    expect([...reply]).toEqual([5, 0])
  })

  it('HTTP proxy: a request head that does not arrive within the header timeout is answered 408 and closed', async () => {
    const s = await idle(agents.proxy.ports.http!, '127.0.0.1')
    const received: Buffer[] = []
    s.on('data', (d: Buffer) => received.push(d))
    s.write('GET http://10.96.0.10/ HTTP/1.1\r\nHost: 10.96.0.10\r\n')
    const lifetime = await closed(s)
    expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n[^]*connection: close\r\n\r\nkpe http proxy: the request head did not arrive in time\n$/)
    expect(lifetime).toBeGreaterThanOrEqual(firstByteMs * 0.9)
    expect(lifetime).toBeLessThan(firstByteMs * 4)
  })
})
