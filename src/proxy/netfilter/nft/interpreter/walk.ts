/**
 * nftables semantics for one new connection: the base chains of each hook in priority order
 * (accept ends one base chain, drop and reject end the packet), jump/goto/return through
 * regular chains, an implicit return at a chain's end and the policy at a base chain's end.
 * external: prerouting -> input (local) or forward + postrouting. local: output ->
 * postrouting -> (local destination) prerouting without nat, then input.
 */
import { InputError } from '../../../../errors.js'
import type { Origin, Route, Verdict } from '../../interpreter/index.js'
import type { CChain, CVerdict, HookName, NftProgram, Step } from './program.js'
import type { NftOutcome } from './types.js'
import type { DnatTarget, WalkEnv } from './walk-env.js'

/** The kernel's jump stack depth (NFT_JUMP_STACK_SIZE). */
const maxDepth = 16
/** Rules one walk may visit: kube-proxy's walks visit tens; a fan-out of jumps is refused, never run. */
const maxRuleVisits = 100_000

/** A ruleset the kernel would refuse to run this way (a jump loop, or an exploding fan-out). */
export class NftRuleLoopError extends InputError {
  constructor(chain: string, reason: string) {
    super({ object: `chain ${chain}` }, reason, { hint: 'a kube-proxy table never does this; check the rules' })
  }
}

type ChainResult = 'accept' | 'drop' | 'reject' | 'return'

function walkChain(chain: CChain, start: number, end: number, env: WalkEnv, base: CChain, depth: number): ChainResult {
  if (depth > maxDepth) throw new NftRuleLoopError(chain.name, `jump stack exceeded ${maxDepth} levels (a loop?)`)
  let n = 0
  const code = base.code
  for (let pc = start; pc < end; ) {
    if (++env.visits > maxRuleVisits) throw new NftRuleLoopError(chain.name, `one packet's walk visited more than ${maxRuleVisits} rules: the jumps fan out`)
    const ruleEnd = pc + 1 + (code[pc] as number)
    env.atChain = chain
    env.atRule = ++n
    env.atType = base.base!.type
    env.branch = undefined
    env.element = undefined
    let v: CVerdict | undefined
    let matched = true
    for (pc++; pc < ruleEnd; ) {
      const step = code[pc] as Step
      const r = step.run(env, code, pc)
      pc += 1 + step.operands
      if (r === false) {
        matched = false
        break
      }
      if (r !== undefined) {
        v = r
        break
      }
    }
    pc = ruleEnd
    if (!matched) continue
    if (env.hops) env.hop(chain.rules[n - 1]!)
    if (v === undefined || v.k === 'continue') continue
    switch (v.k) {
      case 'accept':
      case 'drop':
      case 'reject':
        env.decidedAt = env.at
        if (v.k === 'reject') env.rejectWith = v.with
        return v.k
      case 'return':
        return 'return'
      case 'jump': {
        const r = walkChain(v.chain, v.start, v.end, env, base, depth + 1)
        if (r !== 'return') return r
        continue
      }
      case 'goto':
        return walkChain(v.chain, v.start, v.end, env, base, depth + 1)
    }
  }
  return 'return'
}

/** Every base chain of the hook; a drop or reject is final, accept goes on to the next one. */
function walkHook(prog: NftProgram, env: WalkEnv, hook: HookName, withNat: boolean): 'accept' | 'drop' | 'reject' {
  for (const base of prog.hooks[hook]) {
    if (!withNat && base.base!.type === 'nat') continue
    let r = walkChain(base, base.start, base.end, env, base, 0)
    if (r === 'return') {
      r = base.base!.policy === 'drop' ? 'drop' : 'accept'
      if (r === 'drop') env.decidedAt = undefined
    }
    if (r !== 'accept') return r
  }
  return 'accept'
}

export function runHooks(prog: NftProgram, env: WalkEnv, origin: Origin): 'accept' | 'drop' | 'reject' {
  let v: 'accept' | 'drop' | 'reject'
  if (origin === 'external') {
    v = walkHook(prog, env, 'prerouting', true)
    if (v !== 'accept') return v
    const local = env.isLocal(env.dst)
    v = walkHook(prog, env, local ? 'input' : 'forward', true)
    if (v !== 'accept') return v
    if (!local) {
      v = walkHook(prog, env, 'postrouting', true)
      if (v !== 'accept') return v
    }
    env.route = local ? 'local' : 'forward'
    return 'accept'
  }
  v = walkHook(prog, env, 'output', true)
  if (v !== 'accept') return v
  v = walkHook(prog, env, 'postrouting', true)
  if (v !== 'accept') return v
  const local = env.isLocal(env.dst)
  if (local) {
    // Looped back: prerouting again, but nat saw this connection already in output.
    v = walkHook(prog, env, 'prerouting', false)
    if (v === 'accept') v = walkHook(prog, env, 'input', true)
    if (v !== 'accept') return v
  }
  env.route = local ? 'local' : 'output'
  return 'accept'
}

/** What a walk that recorded nothing reports: one shared empty list (frozen, so no reader can add to it). */
const nothing: readonly never[] = Object.freeze([])

/**
 * The walk's outcome. Built with as few objects as possible (a DNAT verdict is its target's,
 * made when compiled): the userspace dataplane asks for one per new connection, and at 10,000 Services
 * each young-generation collection costs more, so fewer of them matter.
 */
export function toOutcome(env: WalkEnv, final: 'accept' | 'drop' | 'reject', probability: number): NftOutcome {
  const delivered = final === 'accept'
  const verdict: Verdict = final === 'drop'
    ? dropVerdict
    : final === 'reject'
      ? env.rejectWith === undefined ? rejectVerdict : { kind: 'reject', with: env.rejectWith }
      : env.dnat ? (env.dnat.verdict ?? dnatVerdictOf(env.dnat)) : acceptVerdict
  const o: { -readonly [K in keyof NftOutcome]: NftOutcome[K] } = {
    probability,
    verdict,
    masquerade: delivered && env.masquerade,
    mark: env.mark,
    hops: env.hops ?? nothing,
    unmodelled: env.unmodelled ?? nothing,
    setEffects: env.setEffects ?? nothing,
  }
  if (delivered && env.route) o.route = env.route as Route
  if (delivered && env.snatTo !== undefined) o.snatTo = env.snatTo
  if (env.decidedAt) o.decidedAt = env.decidedAt
  return o
}

function dnatVerdictOf(d: DnatTarget): Verdict {
  const address = d.address!.text
  return d.port === undefined ? { kind: 'dnat', to: d.to, address } : { kind: 'dnat', to: d.to, address, port: d.port }
}

const dropVerdict: Verdict = Object.freeze({ kind: 'drop' })
const rejectVerdict: Verdict = Object.freeze({ kind: 'reject' })
const acceptVerdict: Verdict = Object.freeze({ kind: 'accept' })
