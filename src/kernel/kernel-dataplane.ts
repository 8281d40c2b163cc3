/**
 * `kpe up --dataplane kernel`, assembled: refuses where this user cannot create a user
 * namespace, builds the node topology, and gives each node's agents a KernelExecutor (iptables
 * mode, iptables-nft) or NftKernelExecutor (nftables mode) in the node's namespace and the pod
 * sandboxes; the pod toolbox dials from the pod's own namespace through its agent.
 */
import type { Duplex } from 'node:stream'
import { UsageError } from '../errors.js'
import { DialError } from '../kubelet/index.js'
import { KernelExecutor, NftKernelExecutor, rootlessUnavailable } from '../lab/index.js'
import type { NodeKernel } from '../node/index.js'
import type { KernelDataplaneContext, KernelDataplaneHandle, PodNetworkDialer } from '../up/index.js'
import { handInSources, startKernelHandIn, startNetnsAgent, type KernelHandIn } from '../netns/index.js'
import { KernelNamespaces } from './kernel-namespaces.js'
import { planKernelTopology } from './kernel-topology.js'
import type { StartPodAgent } from './pod-agent.js'
import { KernelPodSandboxes } from './pod-sandboxes.js'

/** How long a dial that nobody answers (a DROP) waits: Linux's default SYN retries, about 127 s. */
const dropGiveUpMs = 127_000

export interface KernelDataplaneOptions {
  /** Starts a namespace agent in a pod's namespace; default: src/netns's agent, joined to the user namespace. */
  readonly startAgent?: StartPodAgent
  /** Root only: build the namespaces with root instead of in a user namespace (not supported yet). */
  readonly rootless?: boolean
}

/** The reason `--dataplane kernel` cannot run here, or undefined. */
export function kernelDataplaneUnavailable(o: Pick<KernelDataplaneOptions, 'rootless'> = {}): string | undefined {
  if (o.rootless === false) return '--rootless=false is not supported yet: the kernel dataplane always runs in a user namespace (it needs no root, and root can create one too)'
  const why = rootlessUnavailable()
  return why === undefined ? undefined : `--dataplane kernel needs a user namespace: ${why}`
}

/** A StartKernelDataplane for startCluster. */
export function kernelDataplane(o: KernelDataplaneOptions = {}): (ctx: KernelDataplaneContext) => Promise<KernelDataplaneHandle> {
  return async (ctx) => {
    const why = kernelDataplaneUnavailable(o)
    if (why !== undefined) throw new UsageError(why, { hint: 'run `kpe up` without --dataplane kernel for the userspace dataplane' })
    const topology = planKernelTopology(ctx.nodes, ctx.kubeProxyConfiguration)
    const namespaces = await KernelNamespaces.start(topology, ctx.dataDir)
    ctx.log?.(`kernel dataplane: ${topology.nodes.length} node namespaces in user namespace ${namespaces.userNs}; rules through iptables-nft (iptables-legacy is refused inside a user namespace) or nft`)
    let sandboxes: KernelPodSandboxes | undefined
    const hooks = {
      node(name: string, tables: Parameters<KernelDataplaneHandle['hooks']['node']>[1]): NodeKernel {
        const node = topology.nodes.find((n) => n.name === name)
        if (!node) throw new UsageError(`node ${name} is not in the kernel dataplane's topology (nodes: ${topology.nodes.map((n) => n.name).join(', ')})`)
        const startAgent: StartPodAgent = o.startAgent ?? ((holderPid) => startNetnsAgent({ holderPid, rootless: true, ...(ctx.log ? { log: ctx.log } : {}) }))
        sandboxes ??= new KernelPodSandboxes({ namespaces, network: tables.network, seen: tables.seen, startAgent, ...(ctx.log ? { log: ctx.log } : {}) })
        const run = namespaces.runner(node.netns)
        return { iptables: new KernelExecutor({ run, family: 'IPv4', backend: 'nft' }), nftables: new NftKernelExecutor({ run }), sandboxes }
      },
    }
    const podDialer: PodNetworkDialer = {
      dial(pod, ip, port, signal) {
        const agent = sandboxes?.agentOf(pod.namespace, pod.name)
        return agent ? dialFromPod(agent, ip, port, signal) : undefined
      },
    }
    let handIn: KernelHandIn | undefined
    return {
      hooks, podDialer,
      async startHandIn(h) {
        const nodeHolders = new Map(topology.nodes.flatMap((n) => { const pid = namespaces.holderOf(n.netns); return pid === undefined ? [] : [[n.name, pid] as const] }))
        handIn = await startKernelHandIn(
          { rootless: true, outsideHolder: namespaces.holderOf(topology.external.netns)!, nodeHolders, sources: handInSources(topology) },
          { log: h.log, clock: { now: () => Date.now() }, podByIP: h.podByIP, ...(ctx.log ? { logger: ctx.log } : {}) },
        )
        return handIn
      },
      async stop() {
        await handIn?.stop().catch(() => {})
        await sandboxes?.stop()
        await namespaces.stop()
      },
    }
  }
}

/** A connection from inside the pod's namespace; a kernel answer becomes the toolbox's refused/unreachable/timeout. */
async function dialFromPod(agent: NonNullable<ReturnType<KernelPodSandboxes['agentOf']>>, ip: string, port: number, signal: AbortSignal): Promise<Duplex> {
  const dialed = agent.dial({ host: ip, port, timeoutMs: dropGiveUpMs })
  const aborted = new Promise<never>((_, reject) => {
    const fail = (): void => reject(new DialError('timeout', `connect to ${ip}:${port} timed out`))
    if (signal.aborted) fail()
    else signal.addEventListener('abort', fail, { once: true })
  })
  // An abandoned dial that connects later is closed at once.
  dialed.then((c) => { if (signal.aborted) c.socket.destroy() }, () => {})
  try {
    return (await Promise.race([dialed, aborted])).socket
  } catch (err) {
    if (err instanceof DialError) throw err
    const code = (err as { code?: unknown }).code
    const message = err instanceof Error ? err.message : String(err)
    if (code === 'ECONNREFUSED') throw new DialError('refused', message)
    if (code === 'ETIMEDOUT') throw new DialError('timeout', message)
    throw new DialError('unreachable', message)
  }
}
