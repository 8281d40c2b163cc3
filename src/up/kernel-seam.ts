/**
 * How `kpe up` takes a kernel dataplane (src/kernel, wired by the CLI): started once the Nodes
 * are known and before their agents, it gives the agents their kernel parts and the pod toolbox
 * its in-namespace dialer, and stops after the agents (its namespaces go last).
 */
import type { KubeProxyConfiguration, Node } from '../api/index.js'
import type { KernelNodeHooks } from '../node/index.js'
import type { ConnectionLog, HandInPort } from '../proxy/userspace/index.js'
import type { PodNetworkDialer } from './pod-toolbox.js'

export interface KernelDataplaneContext {
  readonly dataDir: string
  readonly nodes: readonly Node[]
  readonly kubeProxyConfiguration: KubeProxyConfiguration | undefined
  readonly log?: (line: string) => void
}

export interface KernelDataplaneHandle {
  readonly hooks: KernelNodeHooks
  readonly podDialer: PodNetworkDialer
  /** The hop that carries the NodePort, SOCKS5 and HTTP CONNECT entry points' TCP into the kernel; it logs into `log`. */
  startHandIn(o: {
    readonly log: ConnectionLog
    readonly podByIP: (ip: string) => string | undefined
    /** How the connection log names a destination (`cluster-ip of default/web port 80/tcp`), as the userspace dataplane does. */
    readonly describeDestination: (host: string, port: number) => string
  }): Promise<HandInPort>
  stop(): Promise<void>
}

export type StartKernelDataplane = (ctx: KernelDataplaneContext) => Promise<KernelDataplaneHandle>
