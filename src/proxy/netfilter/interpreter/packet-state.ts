/**
 * The mutable state of one packet during a walk (addresses after DNAT, mark, conntrack state,
 * NAT decisions), and the pre-parsed node context. Created once per walk from the public
 * Packet and NodeContext.
 */
import { InputError } from '../../../errors.js'
import type { PacketAddress } from './address.js'
import { parsePacketAddress } from './address.js'
import { ctBits } from './compiled.js'
import type { NodeContext, Packet } from './types.js'

export interface PacketState {
  readonly src: PacketAddress
  dst: PacketAddress
  readonly proto: string
  dport: number
  readonly sport: number | undefined
  readonly inInterface: string | undefined
  readonly outInterface: string | undefined
  mark: number
  ct: number
  dnat: { readonly to: string; readonly address: string; readonly port?: number } | undefined
  masquerade: boolean
  snatTo: string | undefined
}

function address(text: string, field: string): PacketAddress {
  const a = parsePacketAddress(text)
  if (!a) throw new InputError({ object: 'packet', field }, `${JSON.stringify(text)} is not an IP address`)
  return a
}

export function newPacketState(p: Packet): PacketState {
  return {
    src: address(p.src, 'src'),
    dst: address(p.dst, 'dst'),
    proto: p.proto,
    dport: p.dport,
    sport: p.sport,
    inInterface: p.inInterface,
    outInterface: p.outInterface,
    mark: (p.mark ?? 0) >>> 0,
    ct: ctBits.NEW,
    dnat: undefined,
    masquerade: false,
    snatTo: undefined,
  }
}

export interface CompiledNodeContext {
  readonly localKeys: ReadonlySet<number | string>
}

const contextCache = new WeakMap<NodeContext, CompiledNodeContext>()

/** Cached per NodeContext object: callers that reuse one context pay the parsing once. */
export function compileNodeContext(ctx: NodeContext): CompiledNodeContext {
  let c = contextCache.get(ctx)
  if (!c) {
    const keys = new Set<number | string>()
    for (const a of ctx.localAddresses) {
      const p = parsePacketAddress(a)
      if (p) keys.add(p.key)
    }
    c = { localKeys: keys }
    contextCache.set(ctx, c)
  }
  return c
}

export function isLocal(ctx: CompiledNodeContext, a: PacketAddress): boolean {
  return ctx.localKeys.has(a.key)
}
