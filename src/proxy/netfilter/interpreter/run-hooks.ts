/**
 * The hook order a new connection takes through nat and filter, and the Outcome it ends in.
 * external: nat PREROUTING -> route -> filter INPUT (local) or FORWARD + nat POSTROUTING.
 * local: nat OUTPUT -> filter OUTPUT -> nat POSTROUTING -> filter INPUT if the destination is local.
 */
import { assertNever } from '../../../errors.js'
import type { CompiledRules } from './compiled.js'
import { isLocal } from './packet-state.js'
import type { Hop, Origin, Outcome, Route, RuleLocation, Verdict } from './types.js'
import type { HookVerdict } from './walk-chain.js'
import { walkHook } from './walk-chain.js'
import type { WalkEnv } from './walk-env.js'

export interface Final {
  readonly verdict: HookVerdict
  readonly route: Route | undefined
  readonly decidedAt: RuleLocation | undefined
}

/** Runs every hook for the origin; returns where the packet ended up. Written flat: it is the hot path. */
export function runHooks(rules: CompiledRules, env: WalkEnv, origin: Origin): Final {
  const pkt = env.pkt
  // The last explicit filter ACCEPT, so a delivery can say which rule let it through.
  let accepted: RuleLocation | undefined
  let v: HookVerdict
  let local: boolean
  if (origin === 'external') {
    v = walkHook(env, rules.nat, 'PREROUTING')
    if (v !== 'accept') return { verdict: v, route: undefined, decidedAt: env.decidedAt }
    local = isLocal(env.node, pkt.dst)
    v = walkHook(env, rules.filter, local ? 'INPUT' : 'FORWARD')
    if (v !== 'accept') return { verdict: v, route: undefined, decidedAt: env.decidedAt }
    accepted = env.decidedAt
    if (!local) {
      v = walkHook(env, rules.nat, 'POSTROUTING')
      if (v !== 'accept') return { verdict: v, route: undefined, decidedAt: env.decidedAt }
    }
    return { verdict: 'accept', route: local ? 'local' : 'forward', decidedAt: accepted }
  }
  v = walkHook(env, rules.nat, 'OUTPUT')
  if (v !== 'accept') return { verdict: v, route: undefined, decidedAt: env.decidedAt }
  v = walkHook(env, rules.filter, 'OUTPUT')
  if (v !== 'accept') return { verdict: v, route: undefined, decidedAt: env.decidedAt }
  accepted = env.decidedAt
  v = walkHook(env, rules.nat, 'POSTROUTING')
  if (v !== 'accept') return { verdict: v, route: undefined, decidedAt: env.decidedAt }
  // A locally sent packet to a local address loops back through filter INPUT (not nat
  // PREROUTING: the connection's NAT was decided in OUTPUT).
  local = isLocal(env.node, pkt.dst)
  if (local) {
    v = walkHook(env, rules.filter, 'INPUT')
    if (v !== 'accept') return { verdict: v, route: undefined, decidedAt: env.decidedAt }
    accepted = env.decidedAt ?? accepted
  }
  return { verdict: 'accept', route: local ? 'local' : 'output', decidedAt: accepted }
}

const acceptVerdict: Verdict = { kind: 'accept' }
const dropVerdict: Verdict = { kind: 'drop' }

export function toOutcome(env: WalkEnv, final: Final, probability: number): Outcome {
  const pkt = env.pkt
  let verdict: Verdict
  switch (final.verdict) {
    case 'drop':
      verdict = dropVerdict
      break
    case 'reject':
      verdict = env.rejectWith === undefined ? { kind: 'reject' } : { kind: 'reject', with: env.rejectWith }
      break
    case 'accept':
      verdict = !pkt.dnat
        ? acceptVerdict
        : pkt.dnat.port === undefined
          ? { kind: 'dnat', to: pkt.dnat.to, address: pkt.dnat.address }
          : { kind: 'dnat', to: pkt.dnat.to, address: pkt.dnat.address, port: pkt.dnat.port }
      break
    default:
      return assertNever(final.verdict)
  }
  const delivered = final.verdict === 'accept'
  const o: Mutable<Outcome> = {
    probability,
    verdict,
    masquerade: delivered && pkt.masquerade,
    mark: pkt.mark,
    hops: env.hops ?? noHops,
    unmodelled: env.unmodelled,
    recent: env.recentEffects,
  }
  if (final.route !== undefined) o.route = final.route
  if (delivered && pkt.snatTo !== undefined) o.snatTo = pkt.snatTo
  if (final.decidedAt !== undefined) o.decidedAt = final.decidedAt
  return o
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
const noHops: readonly Hop[] = []
