/**
 * The steps a rule compiles to that differ from rule to rule (one per Service or endpoint in
 * kube-proxy's table) as plain objects with shared methods, not closures: a closure made per
 * rule is a function V8 sets up on its first call, which at 10,000 Services is nearly every
 * call. Steps spelled the same in many rules are closures made once and shared (program.ts).
 */
import type { NftSelector } from '../types.js'
import type { CVerdict, Step, StepResult } from './program.js'
import type { ValKey } from './values.js'
import type { DnatTarget, WalkEnv } from './walk-env.js'

export const acceptVerdict: CVerdict = { k: 'accept' }

/** `ip daddr 10.96.0.7`, `ip saddr != 10.244.0.5`, `meta l4proto tcp`: one value, compared. */
export class EqualsStep implements Step {
  constructor(
    readonly sel: NftSelector,
    readonly want: ValKey,
    readonly neg: boolean,
  ) {}

  run(env: WalkEnv): StepResult {
    const v = env.read(this.sel)
    return v !== undefined && (v.key === this.want) !== this.neg ? undefined : false
  }
}

/** `numgen random mod N vmap { 0 : goto a , … }`: the env picks a branch (explore: every one). */
export class NumgenStep implements Step {
  constructor(
    readonly mod: number,
    /** Each branch's verdict, or undefined when the mod is too large to tabulate. */
    readonly branches: readonly StepResult[] | undefined,
    readonly branchOf: (n: number) => StepResult,
  ) {}

  run(env: WalkEnv): StepResult {
    const n = env.pick(this.mod)
    if (env.hops) env.branch = { taken: n, of: this.mod }
    return this.branches ? (this.branches[n] ?? false) : this.branchOf(n)
  }
}

/** `dnat to 10.244.0.5:8080`, its target parsed when compiled. */
export class DnatStep implements Step {
  constructor(readonly target: DnatTarget) {}

  run(env: WalkEnv): StepResult {
    return env.applyDnat(this.target) ? acceptVerdict : false
  }
}

/** `goto service-…`, `jump mark-for-masquerade`, `drop`: the verdict itself. */
export class VerdictStep implements Step {
  constructor(readonly verdict: CVerdict) {}

  run(): StepResult {
    return this.verdict
  }
}
