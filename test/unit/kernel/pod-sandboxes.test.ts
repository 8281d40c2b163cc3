/**
 * KernelPodSandboxes with an in-process agent: listeners follow the pod network table, each
 * handed connection reaches the pod's loopback server, which sees the source the kernel delivered.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { loadManifestText, type Node } from '../../../src/api/index.js'
import { KernelPodSandboxes, planKernelTopology, tcpPortsOf, type AgentConnection, type PodAgent, type PodSandboxPlan } from '../../../src/kernel/index.js'
import { PodNetworkTable, SeenSourceTable } from '../../../src/kubelet/index.js'
import { repoRoot } from '../../helpers/shared.js'

const nodes = loadManifestText(readFileSync(`${repoRoot}/fixtures/static/demo.yaml`, 'utf8'), 'demo.yaml').nodes.map((n) => n.object as Node)
const topology = planKernelTopology(nodes, undefined)
const kernelSource = { address: '10.244.1.1', port: 40123 }
const servers: Server[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

function listenLoopback(onConnection: (s: Socket) => void): Promise<Server> {
  // Half-open, as the agent's own listeners: a client's FIN still lets the answer come back.
  const s = createServer({ allowHalfOpen: true }, onConnection)
  servers.push(s)
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)))
}

/** An agent whose "namespace" is loopback: it hands every accepted socket on as if the kernel had delivered it from kernelSource. */
function fakeAgent(log: string[]): PodAgent {
  return {
    pid: 4242,
    async listen(at, onConnection) {
      log.push(`listen ${at.address}:${at.port}`)
      const s = await listenLoopback((sock) => onConnection({ socket: sock, local: at, remote: kernelSource }))
      return { local: { address: '127.0.0.1', port: (s.address() as AddressInfo).port }, close: async () => { log.push(`close ${at.port}`); await new Promise((r) => s.close(r)) } }
    },
    async dial(): Promise<AgentConnection> { throw new Error('not used') },
    async stop() { log.push('agent stop') },
  }
}

function request(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => c.end('hi'))
    let got = ''
    c.on('data', (d) => (got += d))
    c.on('end', () => resolve(got))
    c.on('error', reject)
  })
}

describe('KernelPodSandboxes', () => {
  it('listens on podIP:port for each TCP port the pod registered, and hands connections on as the kernel\'s source', async () => {
    const network = new PodNetworkTable()
    const seen = new SeenSourceTable()
    const log: string[] = []
    const plans: string[] = []
    const sandboxes = new KernelPodSandboxes({
      namespaces: { topology, addPod: async (key: string, p: PodSandboxPlan) => { plans.push(`${key} ${p.netns} ${p.address}`); return 999 }, removePod: async (key: string) => void plans.push(`remove ${key}`), holderOf: () => 555 },
      network, seen, startAgent: async (pid) => { log.push(`agent in ${pid}`); return fakeAgent(log) },
    })
    const pod = { namespace: 'default', name: 'web-1', podIP: '10.244.0.5', node: 'node-a' }
    await sandboxes.setUp(pod)
    expect(plans).toEqual(['default/web-1 kpe-pod-default.web-1 10.244.0.5'])
    expect(log).toEqual(['agent in 999'])

    // The container registers its port: the agent listens there; the pod server sees the kernel's source.
    // As pod servers do, the peer is looked up once the first bytes arrive (the hand-over has recorded it by then).
    const server = await listenLoopback((s) => s.once('data', () => {
      const who = seen.lookup(s.remoteAddress, s.remotePort)
      s.end(`${who.address}:${who.port}`)
    }))
    const entry = { local: { address: '127.0.0.1', port: (server.address() as AddressInfo).port }, pod: 'default/web-1', node: 'node-a' }
    network.set('10.244.0.5', 8080, 'tcp', entry)
    network.set('10.244.0.5', 8081, 'udp', entry)
    network.set('10.244.0.9', 9090, 'tcp', entry)
    expect(tcpPortsOf(network, '10.244.0.5')).toEqual([8080])
    await new Promise((r) => setTimeout(r, 50))
    expect(log).toEqual(['agent in 999', 'listen 10.244.0.5:8080'])
    const listenerPort = (servers[1]!.address() as AddressInfo).port // [0] is the pod server
    expect(await request(listenerPort)).toBe('10.244.1.1:40123')

    // The pod's ports go: the listener closes; the pod goes: agent and namespace go.
    network.removeIP('10.244.0.5')
    await new Promise((r) => setTimeout(r, 50))
    expect(log.at(-1)).toBe('close 8080')
    await sandboxes.tearDown(pod)
    expect(log.at(-1)).toBe('agent stop')
    expect(plans.at(-1)).toBe('remove default/web-1')
    await sandboxes.stop()
  })

  it('removes the namespace again when the agent cannot start', async () => {
    const plans: string[] = []
    const sandboxes = new KernelPodSandboxes({
      namespaces: { topology, addPod: async () => 999, removePod: async (key: string) => void plans.push(`remove ${key}`), holderOf: () => 555 },
      network: new PodNetworkTable(), seen: new SeenSourceTable(), startAgent: async () => { throw new Error('nsenter: no such process') },
    })
    await expect(sandboxes.setUp({ namespace: 'default', name: 'p', podIP: '10.244.0.5', node: 'node-a' })).rejects.toThrow(/no such process/)
    expect(plans.filter((p) => p === 'remove default/p').length).toBeGreaterThanOrEqual(1)
    expect(sandboxes.agentOf('default', 'p')).toBeUndefined()
  })

  it('serves kpe\'s own endpoints on a node\'s address from an agent in the node\'s namespace', async () => {
    const network = new PodNetworkTable()
    const log: string[] = []
    const holders: string[] = []
    const sandboxes = new KernelPodSandboxes({
      namespaces: { topology, addPod: async () => 999, removePod: async () => {}, holderOf: (netns: string) => { holders.push(netns); return 555 } },
      network, seen: new SeenSourceTable(), startAgent: async (pid) => { log.push(`agent in ${pid}`); return fakeAgent(log) },
    })
    const entry = { local: { address: '127.0.0.1', port: 1 }, pod: 'kube-system/kpe-dns', node: 'node-a' }
    network.set('192.168.77.10', 53, 'udp', entry)
    await new Promise((r) => setTimeout(r, 20))
    expect(log).toEqual([])
    network.set('192.168.77.10', 53, 'tcp', entry)
    await new Promise((r) => setTimeout(r, 50))
    expect(holders).toEqual(['kpe-node-node-a'])
    expect(log).toEqual(['agent in 555', 'listen 192.168.77.10:53'])
    await sandboxes.stop()
    expect(log.slice(-2)).toEqual(['close 53', 'agent stop'])
  })
})
