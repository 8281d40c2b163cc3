/**
 * The hook order a new connection takes through nat and filter, and the Outcome it ends in.
 * external: nat PREROUTING -> route -> filter INPUT (local) or FORWARD + nat POSTROUTING.
 * local: nat OUTPUT -> filter OUTPUT -> nat POSTROUTING -> filter INPUT if the destination is local.
 */
import { assertNever } from '../../../errors.js'
import { isLocal } from './packet-state.js'
import type { Program } from './program.js'
import type { Hop, Origin, Outcome, RecentEffect, RuleLocation, Unmodelled, Verdict } from './types.js'
import type { HookVerdict } from './walk-chain.js'
import { walkHook } from './walk-chain.js'
import type { WalkEnv } from './walk-env.js'

/**
 * Runs every hook for the origin and returns the verdict; sets env.route for an accepted packet
 * and env.accepted (or env.decidedAt for a dropped one). Written flat: it is the hot path.
 */
export function runHooks(prog: Program, env: WalkEnv, origin: Origin): HookVerdict {
  const h = prog.hooks
  let v: HookVerdict
  let local: boolean
  if (origin === 'external') {
    v = walkHook(prog, env, h.natPrerouting)
    if (v !== 'accept') return v
    local = isLocal(env.node, env.dst)
    v = walkHook(prog, env, local ? h.filterInput : h.filterForward)
    if (v !== 'accept') return v
    // The last explicit filter ACCEPT, so a delivery can say which rule let it through.
    env.accepted = env.decidedAt
    if (!local) {
      v = walkHook(prog, env, h.natPostrouting)
      if (v !== 'accept') return v
    }
    env.route = local ? 'local' : 'forward'
    return 'accept'
  }
  v = walkHook(prog, env, h.natOutput)
  if (v !== 'accept') return v
  v = walkHook(prog, env, h.filterOutput)
  if (v !== 'accept') return v
  env.accepted = env.decidedAt
  v = walkHook(prog, env, h.natPostrouting)
  if (v !== 'accept') return v
  // A locally sent packet to a local address loops back through filter INPUT (not nat
  // PREROUTING: the connection's NAT was decided in OUTPUT).
  local = isLocal(env.node, env.dst)
  if (local) {
    v = walkHook(prog, env, h.filterInput)
    if (v !== 'accept') return v
    if (env.decidedAt >= 0) env.accepted = env.decidedAt
  }
  env.route = local ? 'local' : 'output'
  return 'accept'
}

const acceptVerdict: Verdict = { kind: 'accept' }
const dropVerdict: Verdict = { kind: 'drop' }
// Shared by every outcome that recorded nothing; frozen, since outcomes are values.
const noHops: readonly Hop[] = Object.freeze([])
const noUnmodelled: readonly Unmodelled[] = Object.freeze([])
const noRecent: readonly RecentEffect[] = Object.freeze([])

function dnatVerdict(prog: Program, id: number, port: number): Verdict {
  const to = prog.dnatText[2 * id]!
  const address = prog.dnatText[2 * id + 1]!
  return port < 0 ? { kind: 'dnat', to, address } : { kind: 'dnat', to, address, port }
}

function location(prog: Program, ruleId: number): RuleLocation {
  const chain = prog.ruleChain[ruleId]!
  return { table: chain.table, chain: chain.name, rule: prog.rules[ruleId]!.n }
}

/** The Outcome of a walk that runHooks ended with `final`. */
export function toOutcome(prog: Program, env: WalkEnv, final: HookVerdict, probability: number): Outcome {
  let verdict: Verdict
  switch (final) {
    case 'drop':
      verdict = dropVerdict
      break
    case 'reject':
      verdict = env.rejectWith === undefined ? { kind: 'reject' } : { kind: 'reject', with: env.rejectWith }
      break
    case 'accept':
      verdict = env.dnat < 0 ? acceptVerdict : dnatVerdict(prog, env.dnat, env.dnatPort)
      break
    default:
      return assertNever(final)
  }
  const delivered = final === 'accept'
  const o: Mutable<Outcome> = {
    probability,
    verdict,
    masquerade: delivered && env.masquerade,
    mark: env.mark,
    hops: env.hops ?? noHops,
    unmodelled: env.unmodelled ?? noUnmodelled,
    recent: env.recentEffects ?? noRecent,
  }
  if (env.route !== undefined) o.route = env.route
  if (delivered && env.snatTo !== undefined) o.snatTo = env.snatTo
  const decidedAt = delivered ? env.accepted : env.decidedAt
  if (decidedAt >= 0) o.decidedAt = location(prog, decidedAt)
  return o
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
