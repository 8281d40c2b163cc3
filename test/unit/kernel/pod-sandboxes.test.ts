/**
 * KernelPodSandboxes with an in-process agent: listeners follow the pod network table, each
 * handed connection reaches the pod's loopback server, which sees the source the kernel delivered.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
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
const udpSockets: UdpSocket[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
  for (const u of udpSockets.splice(0)) {
    try {
      u.close()
    } catch {
      // closed by the sandboxes already
    }
  }
})

function listenLoopback(onConnection: (s: Socket) => void): Promise<Server> {
  // Half-open, as the agent's own listeners: a client's FIN still lets the answer come back.
  const s = createServer({ allowHalfOpen: true }, onConnection)
  servers.push(s)
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)))
}

function bindLoopbackUdp(): Promise<UdpSocket> {
  const u = createSocket('udp4')
  udpSockets.push(u)
  return new Promise((resolve) => u.bind(0, '127.0.0.1', () => resolve(u)))
}

/**
 * An agent whose "namespace" is loopback: it hands every accepted socket on as if the kernel had
 * delivered it from kernelSource; its UDP sockets are loopback ones (their binds go to udpLog).
 */
function fakeAgent(log: string[], udpLog: string[] = [], bound: UdpSocket[] = []): PodAgent {
  return {
    pid: 4242,
    async listen(at, onConnection) {
      log.push(`listen ${at.address}:${at.port}`)
      const s = await listenLoopback((sock) => onConnection({ socket: sock, local: at, remote: kernelSource }))
      return { local: { address: '127.0.0.1', port: (s.address() as AddressInfo).port }, close: async () => { log.push(`close ${at.port}`); await new Promise((r) => s.close(r)) } }
    },
    async bindUdp(at) {
      udpLog.push(`bindUdp ${at.address}:${at.port}`)
      const u = await bindLoopbackUdp()
      bound.push(u)
      u.once('close', () => udpLog.push(`close udp ${at.port}`))
      return { socket: u, local: at }
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

  it('binds podIP:port for each UDP port the pod registered: datagrams reach the pod\'s server as the kernel\'s source, answers leave from that socket', async () => {
    const network = new PodNetworkTable()
    const seen = new SeenSourceTable()
    const udpLog: string[] = []
    const bound: UdpSocket[] = []
    const sandboxes = new KernelPodSandboxes({
      namespaces: { topology, addPod: async () => 999, removePod: async () => {}, holderOf: () => 555 },
      network, seen, startAgent: async () => fakeAgent([], udpLog, bound),
    })
    const pod = { namespace: 'default', name: 'dns-1', podIP: '10.244.0.6', node: 'node-a' }
    await sandboxes.setUp(pod)
    // The pod's UDP server answers with the source it saw (as agnhost netexec's "clientip").
    const server = await bindLoopbackUdp()
    let late: (() => void) | undefined
    server.on('message', (msg, from) => {
      const who = seen.lookup(from.address, from.port)
      const answer = (): void => server.send(`${msg.toString()} ${who.address}:${who.port}`, from.port, from.address)
      // "late" is answered when the test says, after the pod's port has gone.
      if (msg.toString() === 'late') late = answer
      else answer()
    })
    network.set('10.244.0.6', 53, 'udp', { local: { address: '127.0.0.1', port: server.address().port }, pod: 'default/dns-1', node: 'node-a' })
    await new Promise((r) => setTimeout(r, 50))
    expect(udpLog).toEqual(['bindUdp 10.244.0.6:53'])
    const handed = bound[0]!
    expect(handed.address().port).not.toBe(server.address().port)
    // A client (here on loopback, standing for the kernel's delivered source) sends to the handed socket.
    const client = await bindLoopbackUdp()
    const answers: string[] = []
    client.on('message', (m) => answers.push(m.toString()))
    for (const q of ['a', 'b']) client.send(q, handed.address().port, '127.0.0.1')
    const deadline = Date.now() + 2_000
    while (answers.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(answers.sort()).toEqual([`a 127.0.0.1:${client.address().port}`, `b 127.0.0.1:${client.address().port}`])

    // The port goes while an answer is owed: the socket closes; the late answer has nowhere to go and must not throw.
    client.send('late', handed.address().port, '127.0.0.1')
    const sent = Date.now()
    while (late === undefined && Date.now() - sent < 2_000) await new Promise((r) => setTimeout(r, 10))
    network.removeIP('10.244.0.6')
    while (!udpLog.includes('close udp 53') && Date.now() - sent < 2_000) await new Promise((r) => setTimeout(r, 10))
    late!()
    await new Promise((r) => setTimeout(r, 100))
    expect(answers).toHaveLength(2)
    expect(udpLog).toEqual(['bindUdp 10.244.0.6:53', 'close udp 53'])
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
