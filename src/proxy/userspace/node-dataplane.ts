/**
 * One node's userspace dataplane: samples the node's current compiled rules (from its
 * InterpreterExecutor, or its NftInterpreterExecutor in nftables mode) for each new connection,
 * with this node's `recent` / affinity-set state, and turns the outcome into a route through
 * the pod network table. Rule changes affect new connections only.
 */
import type { PodNetworkTable } from '../../kubelet/index.js'
import { cidrContains, parseCidr, parseIP, podCidrGateway, type ParsedCidr } from '../../net/index.js'
import { createInterpreterState, NftInterpreterExecutor, sample, sampleNft, type InterpreterState, type NodeContext, type Origin, type Packet } from '../netfilter/index.js'
import type { Clock, RandomSource } from '../../runtime/index.js'
import type { InterpreterExecutor } from '../netfilter/index.js'
import { routeFromOutcome, type DataplaneOutcome, type RouteDecision } from './route-decision.js'

export interface NodeDataplaneOptions {
  readonly node: string
  readonly nodeIP: string | undefined
  readonly podCIDRs: readonly string[]
  readonly executor: InterpreterExecutor | NftInterpreterExecutor
  readonly network: PodNetworkTable
  readonly random: RandomSource
  readonly clock: Clock
}

export interface Decision {
  readonly route: RouteDecision
  readonly outcome: DataplaneOutcome
  readonly packet: Packet
  readonly origin: Origin
  readonly node: string
}

export class NodeDataplane {
  readonly #o: NodeDataplaneOptions
  readonly #state: InterpreterState = createInterpreterState()
  readonly #ctx: NodeContext
  readonly #gateways: string[]
  /** The node's pod CIDRs with their gateways, parsed once (this runs for every new connection). */
  readonly #podCIDRs: { readonly cidr: ParsedCidr; readonly gateway: string | undefined }[]

  constructor(opts: NodeDataplaneOptions) {
    this.#o = opts
    this.#gateways = opts.podCIDRs.flatMap((c) => podCidrGateway(c) ?? [])
    this.#podCIDRs = opts.podCIDRs.flatMap((c) => {
      const cidr = parseCidr(c)
      return cidr ? [{ cidr, gateway: podCidrGateway(c) }] : []
    })
    this.#ctx = { localAddresses: new Set(['127.0.0.1', '::1', ...(opts.nodeIP ? [opts.nodeIP] : []), ...this.#gateways]) }
  }

  get node(): string {
    return this.#o.node
  }

  get nodeIP(): string | undefined {
    return this.#o.nodeIP
  }

  /** The `recent` lists (session affinity) this node's rules have built up. */
  get interpreterState(): InterpreterState {
    return this.#state
  }

  decide(packet: Packet, origin: Origin): Decision {
    const ex = this.#o.executor
    const sampled = { origin, random: this.#o.random, clock: this.#o.clock, trace: true }
    const outcome: DataplaneOutcome = ex instanceof NftInterpreterExecutor
      ? sampleNft(ex.program(), packet, this.#ctx, { ...sampled, state: ex.sets })
      : sample(ex.compiled(), packet, this.#ctx, { ...sampled, state: this.#state })
    const route = routeFromOutcome(outcome, packet, {
      lookup: (ip, port, proto) => this.#o.network.lookup(ip, port, proto),
      masqueradeAddress: (address) => this.#masqueradeAddress(address),
    })
    return { route, outcome, packet, origin, node: this.#o.node }
  }

  /** Toward a pod of this node: the pod CIDR's gateway (the bridge); elsewhere: the node IP. */
  #masqueradeAddress(address: string): string {
    const ip = parseIP(address)
    for (const { cidr, gateway } of this.#podCIDRs) if (ip && cidrContains(cidr, ip)) return gateway ?? address
    return this.#o.nodeIP ?? address
  }
}
