/**
 * The two ways to run the nft program, as for iptables: explore (kpe trace: every numgen
 * branch, in branch order, with its probability; dynamic sets read from a snapshot and never
 * changed) and sample (the userspace dataplane: one branch drawn with the injected
 * RandomSource, affinity sets updated on the injected Clock).
 */
import type { Clock, RandomSource } from '../../../../runtime/index.js'
import type { NodeContext, Origin, Packet } from '../../interpreter/index.js'
import type { NftProgram } from './program.js'
import type { NftSetState } from './set-state.js'
import type { NftOutcome } from './types.js'
import { runHooks, toOutcome } from './walk.js'
import { WalkEnv } from './walk-env.js'

export interface NftExploreOptions {
  readonly origin: Origin
  /** Dynamic sets as they stand, and the time to judge their timeouts against (ms). */
  readonly sets?: { readonly state: NftSetState; readonly now: number }
  /** Stop after this many outcomes (default 10,000); the result then says `truncated`. */
  readonly maxOutcomes?: number
}

/** One path per walk: numgen picks follow `script`; each new pick queues its other branches. */
class ExploreEnv extends WalkEnv {
  readonly pending: number[][] = [[]]
  script: number[] = []
  taken: number[] = []
  probability = 1

  constructor(readonly snapshot: NftExploreOptions['sets']) {
    super()
  }

  pick(n: number): number {
    if (n <= 1) return 0
    const pos = this.taken.length
    let take: number
    if (pos < this.script.length) take = this.script[pos]!
    else {
      take = 0
      // Pushed last-first so branch 1 is explored next: outcomes come out in branch order.
      for (let k = n - 1; k >= 1; k--) this.pending.push([...this.taken, k])
    }
    this.taken.push(take)
    this.probability /= n
    return take
  }

  now(): number {
    return this.snapshot?.now ?? 0
  }

  get sets(): NftSetState | undefined {
    return this.snapshot?.state
  }

  get mutateSets(): boolean {
    return false
  }
}

export function exploreNft(prog: NftProgram, packet: Packet, ctx: NodeContext, opts: NftExploreOptions): { outcomes: NftOutcome[]; truncated: boolean } {
  const max = opts.maxOutcomes ?? 10_000
  const outcomes: NftOutcome[] = []
  const env = new ExploreEnv(opts.sets)
  while (env.pending.length > 0) {
    if (outcomes.length >= max) return { outcomes, truncated: true }
    env.script = env.pending.pop()!
    env.taken = []
    env.probability = 1
    if (!env.begin(packet, ctx, true)) throw new RangeError(`not an IP address: ${packet.src} -> ${packet.dst}`)
    const final = runHooks(prog, env, opts.origin)
    outcomes.push(toOutcome(env, final, env.probability))
  }
  return { outcomes, truncated: false }
}

export interface NftSampleOptions {
  readonly origin: Origin
  readonly state: NftSetState
  readonly random: RandomSource
  readonly clock: Clock
  /** Record hops (default false). */
  readonly trace?: boolean
}

class SampleEnv extends WalkEnv {
  constructor(readonly opts: NftSampleOptions) {
    super()
  }

  #now: number | undefined

  pick(n: number): number {
    return n <= 1 ? 0 : Math.min(n - 1, Math.floor(this.opts.random.next() * n))
  }

  /** Read once per walk, and only if a dynamic set needs it. */
  now(): number {
    return (this.#now ??= this.opts.clock.now())
  }

  get sets(): NftSetState {
    return this.opts.state
  }

  get mutateSets(): boolean {
    return true
  }
}

export function sampleNft(prog: NftProgram, packet: Packet, ctx: NodeContext, opts: NftSampleOptions): NftOutcome {
  const env = new SampleEnv(opts)
  if (!env.begin(packet, ctx, opts.trace === true)) throw new RangeError(`not an IP address: ${packet.src} -> ${packet.dst}`)
  let p = 1
  const pick = env.pick.bind(env)
  env.pick = (n) => {
    p /= Math.max(1, n)
    return pick(n)
  }
  return toOutcome(env, runHooks(prog, env, opts.origin), p)
}
