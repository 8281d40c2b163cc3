/**
 * The steps a rule compiles to that differ from rule to rule (one per Service or endpoint in
 * kube-proxy's table) as plain object literals sharing one function each, not closures: a
 * closure made per rule is a function V8 sets up on its first call, which at 10,000 Services is
 * nearly every call, and literals made at one site are allocated together once they are seen to
 * live long (pretenured), so one Service's steps sit close in memory. Steps spelled the same in
 * many rules are closures made once and shared (program.ts).
 */
import type { NftSelector } from '../types.js'
import type { CVerdict, Step, StepResult } from './program.js'
import type { ValKey } from './values.js'
import type { DnatTarget, WalkEnv } from './walk-env.js'

export const acceptVerdict: CVerdict = { k: 'accept' }

interface EqualsStep extends Step {
  readonly sel: NftSelector
  readonly want: ValKey
  readonly neg: boolean
}

function runEquals(this: EqualsStep, env: WalkEnv): StepResult {
  const v = env.read(this.sel)
  return v !== undefined && (v.key === this.want) !== this.neg ? undefined : false
}

/** `ip daddr 10.96.0.7`, `ip saddr != 10.244.0.5`, `meta l4proto tcp`: one value, compared. */
export function equalsStep(sel: NftSelector, want: ValKey, neg: boolean): Step {
  const s: EqualsStep = { run: runEquals, sel, want, neg }
  return s
}

interface NumgenStep extends Step {
  readonly mod: number
  /** Each branch's verdict, or undefined when the mod is too large to tabulate. */
  readonly branches: readonly StepResult[] | undefined
  readonly branchOf: (n: number) => StepResult
}

function runNumgen(this: NumgenStep, env: WalkEnv): StepResult {
  const n = env.pick(this.mod)
  if (env.hops) env.branch = { taken: n, of: this.mod }
  return this.branches ? (this.branches[n] ?? false) : this.branchOf(n)
}

/** `numgen random mod N vmap { 0 : goto a , … }`: the env picks a branch (explore: every one). */
export function numgenStep(mod: number, branches: readonly StepResult[] | undefined, branchOf: (n: number) => StepResult): Step {
  const s: NumgenStep = { run: runNumgen, mod, branches, branchOf }
  return s
}

interface DnatStep extends Step, DnatTarget {}

function runDnat(this: DnatStep, env: WalkEnv): StepResult {
  return env.applyDnat(this) ? acceptVerdict : false
}

/** `dnat to 10.244.0.5:8080`, its target parsed when compiled (the step is its own target). */
export function dnatStep(t: DnatTarget): Step {
  const s: DnatStep = { run: runDnat, to: t.to, address: t.address, port: t.port, verdict: t.verdict }
  return s
}

interface VerdictStep extends Step {
  readonly verdict: CVerdict
}

function runVerdict(this: VerdictStep): StepResult {
  return this.verdict
}

/** `goto service-…`, `jump mark-for-masquerade`, `drop`: the verdict itself. */
export function verdictStep(verdict: CVerdict): Step {
  const s: VerdictStep = { run: runVerdict, verdict }
  return s
}
