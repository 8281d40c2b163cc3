/**
 * The kubelets' pod sandboxes in the kernel dataplane: per pod a network namespace with its pod
 * IP (kernel-namespaces.ts) and a namespace agent there. The agent listens on podIP:port for
 * every TCP port the pod's containers registered in the pod network table and hands each
 * connection to the pod's loopback server, recording the source the kernel delivered (after
 * its DNAT and masquerade) as what the pod saw. Pods keep serving in the kubelet; the kernel
 * decides who reaches them.
 */
import type { Socket } from 'node:net'
import type { PodIdentity, PodNetworkTable, PodSandboxes, SeenSourceTable } from '../kubelet/index.js'
import { connectToPod, pipeBoth } from '../proxy/userspace/index.js'
import type { KernelNamespaces } from './kernel-namespaces.js'
import { planPodSandbox } from './kernel-topology.js'
import type { AgentConnection, AgentListener, PodAgent, StartPodAgent } from './pod-agent.js'

/** Idle bound of a handed connection, as the entry points' default (5 min). */
const idleTimeoutMs = 300_000
const connectTimeoutMs = 5_000

interface SandboxRecord {
  readonly key: string
  readonly ip: string
  readonly node: string
  /** Set once started (a node's agent starts when its first endpoint appears). */
  agent: PodAgent | undefined
  /** `port` -> listener on podIP:port inside the pod's namespace. */
  readonly listeners: Map<number, AgentListener>
  /** Serializes this pod's listener changes. */
  chain: Promise<void>
  gone: boolean
}

/** The TCP ports the pod network table holds for one pod IP (the ports its containers serve). */
export function tcpPortsOf(network: PodNetworkTable, podIP: string): number[] {
  return network.entries()
    .map(([addr]) => /^(.*):(\d+)\/(tcp|udp|sctp)$/.exec(addr))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === podIP && m[3] === 'tcp')
    .map((m) => Number(m[2]))
    .sort((a, b) => a - b)
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
  /** Interface index: names of removed pods are never reused while kpe up runs. */
  #next = 0
  readonly #unsubscribe: () => void

  constructor(o: KernelPodSandboxesOptions) {
    this.#o = o
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
      const rec: SandboxRecord = { key: `node ${node.name}`, ip: node.address, node: node.name, agent: undefined, listeners: new Map(), chain: Promise.resolve(), gone: false }
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
    const rec: SandboxRecord = { key, ip: plan.address, node: pod.node, agent, listeners: new Map(), chain: Promise.resolve(), gone: false }
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
      await rec.agent?.stop().catch(() => {})
    }))
    this.#nodes.clear()
    await Promise.all([...this.#pods.values()].map((r) => this.tearDown({ namespace: r.key.split('/')[0]!, name: r.key.slice(r.key.indexOf('/') + 1) })))
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
    }).catch((err: unknown) => this.#log(`${rec.key}: ${String(err)}`))
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
