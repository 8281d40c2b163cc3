/**
 * The entry points' common core: one NodeDataplane per node, the cluster index, limits and the
 * connection log. Given a client (packet source) and an allowed destination it picks the node
 * whose rules apply, asks that node's dataplane, and records the decision.
 */
import type { Socket } from 'node:net'
import type { SeenSourceTable } from '../../kubelet/index.js'
import type { PacketSource } from './client-identity.js'
import type { ClusterIndex } from './cluster-index.js'
import { recordOf, type ConnectionLog } from './connection-log.js'
import type { Destination } from './decide-destination.js'
import type { Decision, NodeDataplane } from './node-dataplane.js'
import type { RouteDecision } from './route-decision.js'
import { connectToPod, type ConnectOptions } from './tcp-forward.js'
import type { HandInPort, HandInPortResult } from './kernel-hand-in-port.js'

export interface UserspaceLimits {
  /** Per entry-point listener. */
  readonly maxConnections: number
  /** A piped connection with no traffic either way for this long is closed. */
  readonly idleTimeoutMs: number
  /** HTTP request headers / SOCKS handshake must complete within this. */
  readonly headerTimeoutMs: number
  readonly connectTimeoutMs: number
  /** DROP: how long a connection is held unanswered before it is closed. */
  readonly dropHoldMs: number
  readonly udpIdleTimeoutMs: number
  readonly maxUdpFlows: number
}

export const defaultUserspaceLimits: UserspaceLimits = {
  maxConnections: 1024,
  idleTimeoutMs: 300_000,
  headerTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  dropHoldMs: 30_000,
  udpIdleTimeoutMs: 30_000,
  maxUdpFlows: 4096,
}

export type Allowed = Extract<Destination, { kind: 'allow' }>

export interface ClusterDataplaneOptions {
  readonly nodes: ReadonlyMap<string, NodeDataplane>
  readonly index: ClusterIndex
  readonly defaultNode: string
  readonly seen: SeenSourceTable
  readonly log: ConnectionLog
  readonly limits: UserspaceLimits
  readonly clock: { now(): number }
  readonly logger?: (line: string) => void
}

export class ClusterDataplane {
  readonly #o: ClusterDataplaneOptions
  #index: ClusterIndex
  #handIn: HandInPort | undefined

  constructor(opts: ClusterDataplaneOptions) {
    this.#o = opts
    this.#index = opts.index
  }

  get index(): ClusterIndex {
    return this.#index
  }

  setIndex(index: ClusterIndex): void {
    this.#index = index
  }

  get limits(): UserspaceLimits {
    return this.#o.limits
  }

  get defaultNode(): string {
    return this.#o.defaultNode
  }

  get seen(): SeenSourceTable {
    return this.#o.seen
  }

  node(name: string): NodeDataplane | undefined {
    return this.#o.nodes.get(name)
  }

  /** A new connection (or UDP flow) from client to an allowed destination; undefined when no node applies. */
  decide(entry: string, client: PacketSource, dst: Allowed, sport: number): Decision | { readonly error: string } {
    const nodeName = dst.addressKind === 'node-ip' ? dst.owner : client.node
    const dp = this.#o.nodes.get(nodeName)
    if (!dp) return { error: `no dataplane for node ${nodeName}` }
    const decision = dp.decide({ src: client.src, sport, dst: dst.ip, dport: dst.port, proto: dst.proto }, client.origin)
    const at = this.#o.clock.now()
    this.#o.log.add(() => recordOf(decision, at, entry, client.describe, `${dst.describe} port ${dst.port}/${dst.proto}`))
    if (decision.route.kind !== 'forward') this.#o.logger?.(`${entry}: ${client.describe} -> ${dst.ip}:${dst.port}/${dst.proto} on ${nodeName}: ${decision.route.reason}`)
    return decision
  }

  /** The kernel dataplane: TCP from the NodePort, SOCKS5 and HTTP CONNECT entry points goes into the kernel through this hop. */
  useHandIn(handIn: HandInPort): void {
    this.#handIn = handIn
  }

  /** True when TCP entry points go into the kernel through the hand-in hop (handInTcp). */
  get handsIn(): boolean {
    return this.#handIn !== undefined
  }

  /**
   * With a hand-in hop, a TCP connection through the kernel of the node decide() would ask (the
   * NodePort's owner, else the client's node); the hop logs it. Undefined without one.
   */
  handInTcp(entry: string, client: PacketSource, dst: Allowed): Promise<HandInPortResult> | undefined {
    if (!this.#handIn) return undefined
    const node = dst.addressKind === 'node-ip' ? dst.owner : client.node
    return this.#handIn.open({ entry, client: client.describe, node, host: dst.ip, port: dst.port, timeoutMs: this.#o.limits.connectTimeoutMs })
  }

  refused(entry: string, client: string, destination: string, reason: string): void {
    this.#o.log.add({ at: this.#o.clock.now(), entry, client, destination, node: '', verdict: 'refused', reason })
    this.#o.logger?.(`${entry}: refused ${client} -> ${destination}: ${reason}`)
  }

  openTcp(route: Extract<RouteDecision, { kind: 'forward' }>, opts: ConnectOptions = {}): Promise<Socket> {
    return connectToPod(route.local, route.seen, this.#o.seen, this.#o.limits.connectTimeoutMs, opts)
  }
}
