/**
 * The pre-parsed node context (`--src/dst-type LOCAL`). The packet itself is walked in the
 * WalkEnv (walk-env.ts).
 */
import type { PacketAddress } from './address.js'
import { parsePacketAddress } from './address.js'
import type { NodeContext } from './types.js'

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
