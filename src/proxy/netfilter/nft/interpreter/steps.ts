/**
 * The steps a rule compiles to that differ from rule to rule (one per Service or endpoint in
 * kube-proxy's table) as plain object literals sharing one function each, not closures: a
 * closure made per rule is a function V8 sets up on its first call, which at 10,000 Services is
 * nearly every call, and literals made at one site are allocated together once they are seen to
 * live long (pretenured), so one Service's steps sit close in memory. Steps spelled the same in
 * many rules are closures made once and shared (program.ts).
 */
import type { NftSelector } from '../types.js'
import type { CChain, CJump, Code, CVerdict, Step, StepResult } from './program.js'
import type { ValKey } from './values.js'
import type { DnatTarget, WalkEnv } from './walk-env.js'

export const acceptVerdict: CVerdict = { k: 'accept' }

interface EqualsStep extends Step {
  readonly sel: NftSelector
  readonly neg: boolean
}

function runEquals(this: EqualsStep, env: WalkEnv, code: Code, at: number): StepResult {
  const v = env.read(this.sel)
  return v !== undefined && (v.key === (code[at + 1] as ValKey)) !== this.neg ? undefined : false
}

/**
 * `ip daddr 10.96.0.7`, `ip saddr != 10.244.0.5`, `meta l4proto tcp`: one value, compared. One
 * step per selector and sense, shared; the value is its operand in the rule's code.
 */
export function equalsStep(sel: NftSelector, neg: boolean): Step {
  const s: EqualsStep = { operands: 1, run: runEquals, sel, neg }
  return s
}

interface NumgenStep extends Step {
  readonly mod: number
  /** With no operands (a mod too large to tabulate), each branch is looked up when picked. */
  readonly branchOf: ((n: number) => StepResult) | undefined
}

/**
 * Words per tabulated numgen branch: a jump or goto as its kind, target chain, start and end (so
 * the walk reads no verdict object of the endpoint's: at 10,000 Services each is a likely cache
 * and TLB miss); any other verdict as `other` and the verdict; no branch as `none`.
 */
export const numgenBranchWords = 4
const none = 0
const jump = 1
const goto = 2
const other = 3

/** A numgen branch's words, before `linkNumgen` fills in its target's offsets. */
export function numgenBranch(v: StepResult): readonly unknown[] {
  if (v === undefined || v === false) return [none, undefined, 0, 0]
  return v.k === 'jump' || v.k === 'goto' ? [v.k === 'jump' ? jump : goto, v, 0, 0] : [other, v, 0, 0]
}

function runNumgen(this: NumgenStep, env: WalkEnv, code: Code, at: number): StepResult {
  const n = env.pick(this.mod)
  if (env.hops) env.branch = { taken: n, of: this.mod }
  if (this.branchOf) return this.branchOf(n)
  const b = at + 1 + n * numgenBranchWords
  const kind = code[b] as number
  if (kind === jump || kind === goto) return env.jumpVia(kind === jump ? 'jump' : 'goto', code[b + 1] as CChain, code[b + 2] as number, code[b + 3] as number)
  return kind === other ? (code[b + 1] as CVerdict) : false
}

/** Once every chain is laid out: each jump or goto branch holds its target chain and offsets instead of its verdict. */
function linkNumgen(this: NumgenStep, code: Code, at: number): void {
  for (let b = at + 1; b < at + 1 + this.operands; b += numgenBranchWords) {
    const kind = code[b] as number
    if (kind !== jump && kind !== goto) continue
    const j = code[b + 1] as CJump
    code[b + 1] = j.chain
    code[b + 2] = j.start
    code[b + 3] = j.end
  }
}

/**
 * `numgen random mod N vmap { 0 : goto a , … }`: the env picks a branch (explore: every one).
 * One step per mod, shared; the branches are its operands in the rule's code (numgenBranch).
 */
export function numgenStep(mod: number, operands: number, branchOf: ((n: number) => StepResult) | undefined): Step {
  const s: NumgenStep = operands === 0 ? { operands, run: runNumgen, mod, branchOf } : { operands, run: runNumgen, link: linkNumgen, mod, branchOf }
  return s
}

interface DnatStep extends Step, DnatTarget {}

function runDnat(this: DnatStep, env: WalkEnv): StepResult {
  return env.applyDnat(this) ? acceptVerdict : false
}

/** `dnat to [fd00::5]:8080`, its target parsed when compiled (the step is its own target). */
export function dnatStep(t: DnatTarget): Step {
  const s: DnatStep = { operands: 0, run: runDnat, to: t.to, address: t.address, port: t.port, verdict: t.verdict }
  return s
}

function runDnatV4(env: WalkEnv, code: Code, at: number): StepResult {
  env.applyDnatV4(code[at + 1] as number, code[at + 2] as string, code[at + 3] as number | undefined, code[at + 4] as string)
  return acceptVerdict
}

/**
 * `dnat to 10.244.0.5:8080`: one shared step whose operands are the address as a number, its
 * text, the port and the target text, so a connection reads no object of the endpoint's.
 */
export const dnatV4Step: Step = { operands: 4, run: runDnatV4 }

interface VerdictStep extends Step {
  readonly verdict: CVerdict
}

function runVerdict(this: VerdictStep): StepResult {
  return this.verdict
}

/** `goto service-…`, `jump mark-for-masquerade`, `drop`: the verdict itself. */
export function verdictStep(verdict: CVerdict): Step {
  const s: VerdictStep = { operands: 0, run: runVerdict, verdict }
  return s
}
