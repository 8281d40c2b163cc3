/**
 * From one sampled interpreter Outcome to what the dataplane does with a new connection:
 * forward to the pod's loopback address (found only in the pod network table), refuse at once
 * (REJECT), hold without answer (DROP), or fail (no pod has the address). Pure.
 */
import { assertNever } from '../../errors.js'
import type { L4Proto } from '../../net/index.js'
import type { LoopbackAddress, PodNetworkEntry, SeenSource } from '../../kubelet/index.js'
import type { Packet, Verdict } from '../netfilter/index.js'

/**
 * What the dataplane reads of a sampled outcome: the iptables interpreter's Outcome and the nft
 * interpreter's NftOutcome both fit, so either executor can carry a node's traffic.
 */
export interface DataplaneOutcome {
  readonly probability: number
  readonly verdict: Verdict
  readonly masquerade: boolean
  readonly snatTo?: string
  readonly decidedAt?: { readonly table: string; readonly chain: string; readonly rule: number }
  readonly hops: readonly { readonly table: string; readonly chain: string; readonly rule: number; readonly matched: boolean }[]
}

export type RouteDecision =
  | {
      readonly kind: 'forward'
      readonly local: LoopbackAddress
      /** The source address and port the pod sees (masqueraded or the client's). */
      readonly seen: SeenSource
      /** The DNAT target, or the pod address itself when no rule translated it. */
      readonly endpoint: string
      readonly pod: string
      readonly masquerade: boolean
    }
  | { readonly kind: 'reject'; readonly reason: string }
  | { readonly kind: 'drop'; readonly reason: string }
  | { readonly kind: 'unreachable'; readonly reason: string }

export interface RouteContext {
  readonly lookup: (ip: string, port: number, proto: L4Proto) => PodNetworkEntry | undefined
  /** MASQUERADE's source toward an endpoint address (see docs/differences.md). */
  readonly masqueradeAddress: (endpointAddress: string) => string
}

function where(o: DataplaneOutcome): string {
  return o.decidedAt ? ` by ${o.decidedAt.table} ${o.decidedAt.chain} rule ${o.decidedAt.rule}` : ''
}

export function routeFromOutcome(o: DataplaneOutcome, packet: Packet, ctx: RouteContext): RouteDecision {
  const v = o.verdict
  switch (v.kind) {
    case 'reject':
      return { kind: 'reject', reason: `rejected${where(o)}${v.with ? ` (${v.with})` : ''}` }
    case 'drop':
      return { kind: 'drop', reason: `dropped${where(o)}` }
    case 'dnat':
    case 'accept': {
      const address = v.kind === 'dnat' ? v.address : packet.dst
      const port = v.kind === 'dnat' ? v.port ?? packet.dport : packet.dport
      const endpoint = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`
      const entry = ctx.lookup(address, port, packet.proto)
      if (!entry) {
        return {
          kind: 'unreachable',
          reason: v.kind === 'dnat'
            ? `DNAT target ${endpoint} is not in the pod network table (no running pod serves it)`
            : `no rule translated ${endpoint} and no pod serves it`,
        }
      }
      const seenAddress = o.masquerade ? o.snatTo ?? ctx.masqueradeAddress(address) : packet.src
      return { kind: 'forward', local: entry.local, seen: { address: seenAddress, port: packet.sport ?? 0 }, endpoint, pod: entry.pod, masquerade: o.masquerade }
    }
    default:
      return assertNever(v)
  }
}
