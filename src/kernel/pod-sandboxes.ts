/**
 * The kubelets' pod sandboxes in the kernel dataplane: per pod a network namespace with its pod
 * IP (kernel-namespaces.ts) and a namespace agent there. The agent listens on podIP:port for
 * every TCP port the pod's containers registered in the pod network table and hands each
 * connection to the pod's loopback server, recording the source the kernel delivered (after
 * its DNAT and masquerade) as what the pod saw; each UDP port gets a socket bound there whose
 * datagrams go on per flow (UdpForwarder) and whose answers leave from podIP:port, so the kernel
 * un-DNATs them. Pods keep serving in the kubelet; the kernel decides who reaches them.
 */
import type { Socket } from 'node:net'
import type { PodIdentity, PodNetworkTable, PodSandboxes, SeenSourceTable } from '../kubelet/index.js'
import type { L4Proto } from '../net/index.js'
import { connectToPod, pipeBoth, UdpFlowTable, UdpForwarder } from '../proxy/userspace/index.js'
import type { KernelNamespaces } from './kernel-namespaces.js'
import { planPodSandbox } from './kernel-topology.js'
import type { AgentConnection, AgentListener, AgentUdpSocket, PodAgent, StartPodAgent } from './pod-agent.js'

/** Idle bound of a handed connection, as the entry points' default (5 min). */
const idleTimeoutMs = 300_000
const connectTimeoutMs = 5_000
/** conntrack's UDP timeout (nf_conntrack_udp_timeout, 30 s) for a flow toward a pod's server. */
const udpFlowIdleMs = 30_000
const maxUdpFlows = 4096

interface SandboxRecord {
  readonly key: string
  readonly ip: string
  readonly node: string
  /** Set once started (a node's agent starts when its first endpoint appears). */
  agent: PodAgent | undefined
  /** `port` -> listener on podIP:port inside the pod's namespace. */
  readonly listeners: Map<number, AgentListener>
  /** `port` -> UDP socket bound to podIP:port inside the pod's namespace. */
  readonly udp: Map<number, AgentUdpSocket>
  /** Serializes this pod's listener changes. */
  chain: Promise<void>
  gone: boolean
}

/** The ports of one protocol the pod network table holds for one pod IP (the ports its containers serve). */
export function portsOf(network: PodNetworkTable, podIP: string, proto: L4Proto): number[] {
  return network.entries()
    .map(([addr]) => /^(.*):(\d+)\/(tcp|udp|sctp)$/.exec(addr))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === podIP && m[3] === proto)
    .map((m) => Number(m[2]))
    .sort((a, b) => a - b)
}

export function tcpPortsOf(network: PodNetworkTable, podIP: string): number[] {
  return portsOf(network, podIP, 'tcp')
}

export interface KernelPodSandboxesOptions {
  readonly namespaces: Pick<KernelNamespaces, 'topology' | 'addPod' | 'removePod' | 'holderOf'>
  readonly network: PodNetworkTable
  readonly seen: SeenSourceTable
  /** Without it pods get their namespace and address but no listener (nothing answers in them). */
  readonly startAgent?: StartPodAgent
  readonly log?: (line: string) => void
}

export class KernelPodSandboxes implements PodSandboxes {
  readonly #o: KernelPodSandboxesOptions
  readonly #pods = new Map<string, SandboxRecord>()
  /** Node name -> the agent serving kpe's own endpoints on the node's address. */
  readonly #nodes = new Map<string, SandboxRecord>()
  #stopped = false
  /** UDP flows from the handed sockets to the pods' loopback servers, one table for every pod. */
  readonly #udpFlows: UdpForwarder
  /** Interface index: names of removed pods are never reused while kpe up runs. */
  #next = 0
  readonly #unsubscribe: () => void

  constructor(o: KernelPodSandboxesOptions) {
    this.#o = o
    this.#udpFlows = new UdpForwarder({ idleTimeoutMs: udpFlowIdleMs, maxFlows: maxUdpFlows, clock: { now: () => Date.now() }, seen: o.seen })
    this.#unsubscribe = o.network.onChange(() => {
      this.#serveNodeAddresses()
      for (const rec of [...this.#pods.values(), ...this.#nodes.values()]) this.#follow(rec)
    })
  }

  /**
   * kpe's own endpoints on a node's address (the kube-dns endpoint, the Ingress controller's
   * Service) are registered in the pod network table under the node's InternalIP: the first time
   * one appears, the node's namespace gets an agent that listens there, as a host-network pod would.
   */
  #serveNodeAddresses(): void {
    const start = this.#o.startAgent
    if (!start || this.#stopped) return
    for (const node of this.#o.namespaces.topology.nodes) {
      if (this.#nodes.has(node.name) || tcpPortsOf(this.#o.network, node.address).length === 0) continue
      const pid = this.#o.namespaces.holderOf(node.netns)
      if (pid === undefined) continue
      const rec: SandboxRecord = { key: `node ${node.name}`, ip: node.address, node: node.name, agent: undefined, listeners: new Map(), udp: new Map(), chain: Promise.resolve(), gone: false }
      this.#nodes.set(node.name, rec)
      rec.chain = start(pid).then((agent) => {
        rec.agent = agent
        if (rec.gone) void agent.stop()
        else this.#follow(rec)
      }, (err: unknown) => this.#log(`node ${node.name}: no agent for kpe's endpoints on ${node.address}: ${err instanceof Error ? err.message : String(err)}`))
    }
  }

  async setUp(pod: PodIdentity): Promise<void> {
    const key = `${pod.namespace}/${pod.name}`
    // A sandbox left from an earlier run of the same pod name goes first.
    if (this.#pods.has(key)) await this.tearDown(pod)
    const plan = planPodSandbox(this.#o.namespaces.topology, { namespace: pod.namespace, name: pod.name, node: pod.node, podIP: pod.podIP }, this.#next++)
    const pid = await this.#o.namespaces.addPod(key, plan)
    let agent: PodAgent | undefined
    try {
      agent = this.#o.startAgent ? await this.#o.startAgent(pid) : undefined
    } catch (err) {
      await this.#o.namespaces.removePod(key)
      throw err
    }
    const rec: SandboxRecord = { key, ip: plan.address, node: pod.node, agent, listeners: new Map(), udp: new Map(), chain: Promise.resolve(), gone: false }
    this.#pods.set(key, rec)
    this.#follow(rec)
    await rec.chain
  }

  async tearDown(pod: Pick<PodIdentity, 'namespace' | 'name'>): Promise<void> {
    const key = `${pod.namespace}/${pod.name}`
    const rec = this.#pods.get(key)
    if (rec) {
      this.#pods.delete(key)
      rec.gone = true
      await rec.chain
      await Promise.all([...rec.listeners.values()].map((l) => l.close().catch(() => {})))
      for (const u of rec.udp.values()) closeUdp(u)
      await rec.agent?.stop().catch((e: unknown) => this.#log(`${key}: stopping its agent: ${String(e)}`))
    }
    await this.#o.namespaces.removePod(key)
  }

  /** The pod's agent, for dialling as the pod (the toolbox); undefined when the pod has none. */
  agentOf(namespace: string, name: string): PodAgent | undefined {
    return this.#pods.get(`${namespace}/${name}`)?.agent
  }

  /** The pod IP of a pod with a sandbox. */
  ipOf(namespace: string, name: string): string | undefined {
    return this.#pods.get(`${namespace}/${name}`)?.ip
  }

  /** The node of a pod with a sandbox. */
  nodeOf(namespace: string, name: string): string | undefined {
    return this.#pods.get(`${namespace}/${name}`)?.node
  }

  async stop(): Promise<void> {
    this.#unsubscribe()
    this.#stopped = true
    await Promise.all([...this.#nodes.values()].map(async (rec) => {
      rec.gone = true
      await rec.chain
      await Promise.all([...rec.listeners.values()].map((l) => l.close().catch(() => {})))
      for (const u of rec.udp.values()) closeUdp(u)
      await rec.agent?.stop().catch(() => {})
    }))
    this.#nodes.clear()
    await Promise.all([...this.#pods.values()].map((r) => this.tearDown({ namespace: r.key.split('/')[0]!, name: r.key.slice(r.key.indexOf('/') + 1) })))
    this.#udpFlows.close()
  }

  /** Brings the pod's listeners in line with the ports its containers registered. */
  #follow(rec: SandboxRecord): void {
    const agent = rec.agent
    if (!agent) return
    rec.chain = rec.chain.then(async () => {
      if (rec.gone) return
      const want = new Set(tcpPortsOf(this.#o.network, rec.ip))
      for (const [port, l] of rec.listeners) {
        if (want.has(port)) continue
        rec.listeners.delete(port)
        await l.close().catch(() => {})
      }
      for (const port of want) {
        if (rec.listeners.has(port) || rec.gone) continue
        try {
          rec.listeners.set(port, await agent.listen({ address: rec.ip, port }, (c) => this.#hand(rec, port, c)))
        } catch (err) {
          this.#log(`${rec.key}: cannot listen on ${rec.ip}:${port} in its namespace: ${err instanceof Error ? err.message : String(err)}`)
        }
      }
      await this.#followUdp(rec, agent)
    }).catch((err: unknown) => this.#log(`${rec.key}: ${String(err)}`))
  }

  /** The pod's UDP sockets in line with its UDP ports (called on the pod's chain). */
  async #followUdp(rec: SandboxRecord, agent: PodAgent): Promise<void> {
    const want = new Set(portsOf(this.#o.network, rec.ip, 'udp'))
    for (const [port, u] of rec.udp) {
      if (want.has(port)) continue
      rec.udp.delete(port)
      closeUdp(u)
    }
    for (const port of want) {
      if (rec.udp.has(port) || rec.gone) continue
      try {
        const u = await agent.bindUdp({ address: rec.ip, port })
        u.socket.on('error', (err) => this.#log(`${rec.key}: UDP ${rec.ip}:${port}: ${err.message}`))
        u.socket.on('message', (msg, from) => this.#handUdp(rec, port, u, msg, from))
        rec.udp.set(port, u)
      } catch (err) {
        this.#log(`${rec.key}: cannot bind UDP ${rec.ip}:${port} in its namespace: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  }

  /**
   * One datagram the kernel delivered to podIP:port: on to the container's loopback server in the
   * client's flow, which records the source the kernel left as what the pod saw; answers go back
   * from podIP:port in the namespace, where conntrack turns them into the Service's address.
   */
  #handUdp(rec: SandboxRecord, port: number, u: AgentUdpSocket, msg: Buffer, from: { address: string; port: number }): void {
    const key = UdpFlowTable.key(from.address, from.port, rec.ip, port)
    this.#udpFlows.send(key, msg, () => {
      const entry = this.#o.network.lookup(rec.ip, port, 'udp')
      // The container stopped: the datagram is dropped, as a closed UDP port without ICMP.
      if (!entry) return { error: `${rec.key}: nothing serves UDP ${rec.ip}:${port}` }
      return { route: { kind: 'forward', local: entry.local, seen: { address: from.address, port: from.port }, endpoint: `${rec.ip}:${port}`, pod: entry.pod, masquerade: false } }
    }, (reply) => {
      // The port may have closed since (the container stopped): send() on a closed socket throws.
      if (rec.gone || rec.udp.get(port) !== u) return
      try {
        u.socket.send(reply, from.port, from.address)
      } catch {
        // closed between the check and the send
      }
    })
  }

  /** One connection the kernel delivered to podIP:port: on to the container's loopback server, as the source the kernel left. */
  #hand(rec: SandboxRecord, port: number, c: AgentConnection): void {
    const entry = this.#o.network.lookup(rec.ip, port, 'tcp')
    if (!entry) {
      // The container stopped between the kernel's accept and now: as a closed port, a reset.
      c.socket.resetAndDestroy()
      return
    }
    connectToPod(entry.local, { address: c.remote.address, port: c.remote.port }, this.#o.seen, connectTimeoutMs)
      .then((server: Socket) => pipeBoth(c.socket, server, idleTimeoutMs))
      .catch((err: unknown) => {
        this.#log(`${rec.key}: handing ${c.remote.address}:${c.remote.port} -> ${rec.ip}:${port} to its server: ${err instanceof Error ? err.message : String(err)}`)
        c.socket.resetAndDestroy()
      })
  }

  #log(line: string): void {
    this.#o.log?.(`kernel dataplane: ${line}`)
  }
}

function closeUdp(u: AgentUdpSocket): void {
  try {
    u.socket.close()
  } catch {
    // already closed
  }
}
