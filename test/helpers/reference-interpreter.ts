/**
 * The interpreter as it was before the compact program (kpe commit aa6194d): walks the
 * CompiledChain objects rule by rule, one object per frame and hop. Kept only as a test oracle:
 * property tests check that sample() and explore() return exactly what this returns. Still
 * needed beside the conformance suite (test/conformance), because the kernel there only judges
 * verdicts on kube-proxy's own rules, while this checks hops, notes and random draws on
 * arbitrary tables, which no kernel reports.
 */
import { assertNever, InputError } from '../../src/errors.js'
import type { RuleTable } from '../../src/proxy/netfilter/index.js'
import type { PacketAddress } from '../../src/proxy/netfilter/interpreter/address.js'
import { addressMatches, parsePacketAddress } from '../../src/proxy/netfilter/interpreter/address.js'
import { compile } from '../../src/proxy/netfilter/interpreter/compile-table.js'
import type { CompiledChain, CompiledMatch, CompiledRule, CompiledRules, CompiledTable } from '../../src/proxy/netfilter/interpreter/compiled.js'
import { ctBits, protoCodes } from '../../src/proxy/netfilter/interpreter/compiled.js'
import type { RecentMatch, RecentState } from '../../src/proxy/netfilter/interpreter/recent-table.js'
import { checkRecent } from '../../src/proxy/netfilter/interpreter/recent-table.js'
import type { Clock, Hop, NodeContext, Origin, Outcome, Packet, RandomSource, RecentEffect, Route, RuleLocation, Unmodelled, Verdict } from '../../src/proxy/netfilter/interpreter/types.js'

// ---- was src/proxy/netfilter/interpreter/walk-env.ts
interface WalkEnv {
  readonly pkt: PacketState
  readonly node: CompiledNodeContext
  readonly useIndex: boolean
  /** Decides a `statistic --mode random` match with probability p. */
  choose(p: number): boolean
  /** Decides a `statistic --mode nth` match. */
  nth(m: Extract<CompiledMatch, { k: 'nth' }>): boolean
  /** Decides a `recent` match (and applies or records its effect). */
  recent(m: RecentMatch): boolean
  /** Recorded only when defined. */
  readonly hops: Hop[] | undefined
  readonly unmodelled: Unmodelled[]
  readonly recentEffects: RecentEffect[]
  /** Where the current hook's verdict was decided (a rule), if not by policy. */
  decidedAt: RuleLocation | undefined
  rejectWith: string | undefined
}

// ---- was src/proxy/netfilter/interpreter/packet-state.ts
interface PacketState {
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

function newPacketState(p: Packet): PacketState {
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

interface CompiledNodeContext {
  readonly localKeys: ReadonlySet<number | string>
}

const contextCache = new WeakMap<NodeContext, CompiledNodeContext>()

/** Cached per NodeContext object: callers that reuse one context pay the parsing once. */
function compileNodeContext(ctx: NodeContext): CompiledNodeContext {
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

function isLocal(ctx: CompiledNodeContext, a: PacketAddress): boolean {
  return ctx.localKeys.has(a.key)
}

// ---- was src/proxy/netfilter/interpreter/eval-match.ts
function inRanges(v: number, ranges: readonly number[]): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (v >= ranges[i]! && v <= ranges[i + 1]!) return true
  return false
}

function note(env: WalkEnv, chain: CompiledChain, n: number, what: string): false {
  env.unmodelled.push({ table: chain.table, chain: chain.name, rule: n, what })
  return false
}

/** `chain` and `n` (1-based rule number) only locate what gets recorded. */
function evalMatch(env: WalkEnv, m: CompiledMatch, chain: CompiledChain, n: number): boolean {
  const p = env.pkt
  switch (m.k) {
    case 'always':
      return true
    case 'addr':
      return addressMatches(m.test, m.side === 'src' ? p.src : p.dst) !== m.neg
    case 'proto':
      return (p.proto === m.proto) !== m.neg
    case 'port': {
      const v = m.side === 'dport' ? p.dport : p.sport
      if (v === undefined) return note(env, chain, n, '--sport (packet has no source port)')
      return (v >= m.from && v <= m.to) !== m.neg
    }
    case 'multiport': {
      if (m.side !== 'dports' && p.sport === undefined) return note(env, chain, n, `-m multiport --${m.side} (packet has no source port)`)
      const hit =
        (m.side !== 'sports' && inRanges(p.dport, m.ranges)) || (m.side !== 'dports' && inRanges(p.sport!, m.ranges))
      return hit !== m.neg
    }
    case 'iface': {
      const name = m.side === 'in' ? p.inInterface : p.outInterface
      if (name === undefined) return note(env, chain, n, `-${m.side === 'in' ? 'i' : 'o'} ${m.name}${m.prefix ? '+' : ''} (packet has no ${m.side}put interface)`)
      return (m.prefix ? name.startsWith(m.name) : name === m.name) !== m.neg
    }
    case 'addrtype-local':
      if (m.src !== undefined && isLocal(env.node, p.src) !== m.src) return false
      if (m.dst !== undefined && isLocal(env.node, p.dst) !== m.dst) return false
      return true
    case 'random':
      return env.choose(m.p)
    case 'nth':
      return env.nth(m)
    case 'recent':
      return env.recent(m)
    case 'mark':
      return (((p.mark & m.mask) >>> 0) === m.value) !== m.neg
    case 'ct':
      return ((p.ct & m.bits) !== 0) !== m.neg
    case 'unmodelled':
      return note(env, chain, n, m.what)
    default:
      return assertNever(m)
  }
}

/** Matches whose outcome depends on more than the packet: a failing one is worth a hop. */
function isDeciding(m: CompiledMatch): boolean {
  return m.k === 'random' || m.k === 'nth' || m.k === 'recent' || m.k === 'unmodelled'
}

// ---- was src/proxy/netfilter/interpreter/walk-chain.ts
type HookVerdict = 'accept' | 'drop' | 'reject'

/** Kernel-like bound on nested jumps; deeper jumps are recorded as unmodelled. */
const maxDepth = 64
const empty = new Int32Array(0)

interface Frame {
  readonly chain: CompiledChain
  pos: number
  /** Indexed walk: candidate rules for this packet's key, and the always-candidate rules. */
  readonly cand: Int32Array | undefined
  readonly wild: Int32Array | undefined
  wpos: number
}

function openFrame(env: WalkEnv, chain: CompiledChain): Frame {
  const idx = env.useIndex ? chain.index : undefined
  if (!idx) return { chain, pos: 0, cand: undefined, wild: undefined, wpos: 0 }
  const p = env.pkt
  const code = protoCodes[p.proto]
  const cand = code === undefined ? undefined : idx.byPort.get(p.dport * 4 + code)?.get(p.dst.key)
  return { chain, pos: 0, cand: cand ?? empty, wild: idx.wildcard, wpos: 0 }
}

/** Next rule index (0-based) in walk order, or -1 at the end of the chain. */
function nextRule(f: Frame): number {
  if (f.cand === undefined) return f.pos < f.chain.rules.length ? f.pos++ : -1
  const c = f.pos < f.cand.length ? f.cand[f.pos]! : -1
  const w = f.wpos < f.wild!.length ? f.wild![f.wpos]! : -1
  if (c < 0 && w < 0) return -1
  if (w < 0 || (c >= 0 && c < w)) {
    f.pos++
    return c
  }
  f.wpos++
  return w
}

/** Evaluates a rule's matches in order, stopping at the first that fails (as the kernel does). */
function ruleMatches(env: WalkEnv, chain: CompiledChain, r: CompiledRule): boolean {
  let decidedBy = -1
  const ms = r.matches
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i]!
    if (!evalMatch(env, m, chain, r.n)) {
      if (env.hops && isDeciding(m)) env.hops.push({ table: chain.table, chain: chain.name, rule: r.n, ruleRef: r.rule, matched: false, decidedBy: i })
      return false
    }
    if (isDeciding(m)) decidedBy = i
  }
  if (env.hops) {
    env.hops.push({
      table: chain.table,
      chain: chain.name,
      rule: r.n,
      ruleRef: r.rule,
      matched: true,
      ...(decidedBy >= 0 ? { decidedBy } : {}),
    })
  }
  return true
}

function decide(env: WalkEnv, chain: CompiledChain, r: CompiledRule): void {
  env.decidedAt = { table: chain.table, chain: chain.name, rule: r.n }
}

function walkHook(env: WalkEnv, table: CompiledTable, hook: string): HookVerdict {
  const root = table.chains.get(hook)
  env.decidedAt = undefined
  if (!root) return 'accept'
  const stack: Frame[] = []
  let frame = openFrame(env, root)
  for (;;) {
    const i = nextRule(frame)
    if (i < 0) {
      const up = stack.pop()
      if (up === undefined) return root.policy
      frame = up
      continue
    }
    const chain = frame.chain
    const r = chain.rules[i]!
    if (!ruleMatches(env, chain, r)) continue
    const t = r.target
    switch (t.k) {
      case 'none':
        break
      case 'jump':
      case 'goto':
        if (stack.length >= maxDepth) {
          env.unmodelled.push({ table: chain.table, chain: chain.name, rule: r.n, what: `jump to ${t.chain.name} deeper than ${maxDepth} chains` })
          break
        }
        if (t.k === 'jump') stack.push(frame)
        frame = openFrame(env, t.chain)
        break
      case 'return': {
        const up = stack.pop()
        if (up === undefined) return root.policy
        frame = up
        break
      }
      case 'accept':
        decide(env, chain, r)
        return 'accept'
      case 'drop':
        decide(env, chain, r)
        return 'drop'
      case 'reject':
        decide(env, chain, r)
        env.rejectWith = t.with
        return 'reject'
      case 'dnat': {
        const p = env.pkt
        p.dst = t.dst
        if (t.port !== undefined) p.dport = t.port
        p.dnat = t
        p.ct |= ctBits.DNAT
        return 'accept'
      }
      case 'snat':
        env.pkt.masquerade = true
        env.pkt.snatTo = t.to
        env.pkt.ct |= ctBits.SNAT
        return 'accept'
      case 'masquerade':
        env.pkt.masquerade = true
        env.pkt.ct |= ctBits.SNAT
        return 'accept'
      case 'mark':
        env.pkt.mark = ((env.pkt.mark & t.and) ^ t.xor) >>> 0
        break
      case 'unmodelled':
        env.unmodelled.push({ table: chain.table, chain: chain.name, rule: r.n, what: t.what })
        break
      default:
        return assertNever(t)
    }
  }
}

// ---- was src/proxy/netfilter/interpreter/run-hooks.ts
interface Final {
  readonly verdict: HookVerdict
  readonly route: Route | undefined
  readonly decidedAt: RuleLocation | undefined
}

/** Runs every hook for the origin; returns where the packet ended up. Written flat: it is the hot path. */
function runHooks(rules: CompiledRules, env: WalkEnv, origin: Origin): Final {
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

function toOutcome(env: WalkEnv, final: Final, probability: number): Outcome {
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

// ---- was src/proxy/netfilter/interpreter/sample.ts
/** Same shape as the real InterpreterState, so one state can be used with either. */
interface InterpreterState {
  readonly recent: RecentState
  /** Counter per nth match id (see CompiledMatch 'nth'); created on first use. */
  readonly nth: Map<number, number>
}

interface SampleOptions {
  readonly origin: Origin
  readonly state: InterpreterState
  readonly random: RandomSource
  readonly clock: Clock
  /** Record hops (default false). */
  readonly trace?: boolean
  readonly linear?: boolean
}

/** xt_statistic nth: the counter starts at --packet and the match fires when it wraps to 0. */
function nthMatches(state: InterpreterState, m: Extract<CompiledMatch, { k: 'nth' }>): boolean {
  const old = state.nth.get(m.id) ?? m.packet
  const next = old >= m.every - 1 ? 0 : old + 1
  state.nth.set(m.id, next)
  return next === 0
}

export function referenceSample(rules: CompiledRules, packet: Packet, ctx: NodeContext, opts: SampleOptions): Outcome {
  const { state, random, clock } = opts
  let probability = 1
  let now: number | undefined
  const env: WalkEnv = {
    pkt: newPacketState(packet),
    node: compileNodeContext(ctx),
    useIndex: opts.linear !== true,
    choose: (p) => {
      const take = random.next() < p
      probability *= take ? p : 1 - p
      return take
    },
    nth: (m) => nthMatches(state, m),
    recent: (m) => checkRecent(state.recent, m, env.pkt.src, env.pkt.dst, (now ??= clock.now()), true, env.recentEffects),
    hops: opts.trace ? [] : undefined,
    unmodelled: [],
    recentEffects: [],
    decidedAt: undefined,
    rejectWith: undefined,
  }
  return toOutcome(env, runHooks(rules, env, opts.origin), probability)
}

// ---- was src/proxy/netfilter/interpreter/explore.ts
interface ExploreOptions {
  readonly origin: Origin
  /** `recent` lists as they stand, and the time to judge --seconds against (ms). */
  readonly recent?: { readonly state: RecentState; readonly now: number }
  /** Stop after this many outcomes (default 10,000); the result then says `truncated`. */
  readonly maxOutcomes?: number
  /** Walk without dispatch indexes (for checking that indexed and linear walks agree). */
  readonly linear?: boolean
}

interface ExploreResult {
  readonly outcomes: readonly Outcome[]
  readonly truncated: boolean
}

export function referenceExplore(rules: RuleTable | CompiledRules, packet: Packet, ctx: NodeContext, opts: ExploreOptions): ExploreResult {
  const compiled = 'tables' in rules ? compile(rules) : rules
  const node = compileNodeContext(ctx)
  const max = opts.maxOutcomes ?? 10_000
  const outcomes: Outcome[] = []
  const pending: boolean[][] = [[]]
  while (pending.length > 0) {
    if (outcomes.length >= max) return { outcomes, truncated: true }
    const script = pending.pop()!
    const taken: boolean[] = []
    let probability = 1
    const branch = (p: number): boolean => {
      if (p >= 1) return true
      if (p <= 0) return false
      const pos = taken.length
      const take = pos < script.length ? script[pos]! : true
      if (pos >= script.length) pending.push([...taken, false])
      taken.push(take)
      probability *= take ? p : 1 - p
      return take
    }
    const env: WalkEnv = {
      pkt: newPacketState(packet),
      node,
      useIndex: opts.linear !== true,
      choose: branch,
      nth: (m) => branch(1 / m.every),
      recent: (m) => checkRecent(opts.recent?.state, m, env.pkt.src, env.pkt.dst, opts.recent?.now ?? 0, false, env.recentEffects),
      hops: [],
      unmodelled: [],
      recentEffects: [],
      decidedAt: undefined,
      rejectWith: undefined,
    }
    outcomes.push(toOutcome(env, runHooks(compiled, env, opts.origin), probability))
  }
  return { outcomes, truncated: false }
}
