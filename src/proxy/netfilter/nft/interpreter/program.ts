/**
 * NftDocument -> a program the walk runs: base chains per hook sorted by priority, chains with
 * resolved jump targets, every rule compiled once to a list of steps, and every set and map
 * compiled to a hash of exact keys (O(1) lookups) plus a list of interval elements.
 */
import { ParseError } from '../../../../errors.js'
import type { NftBaseChainDef, NftDocument, NftElementDef, NftExpr, NftKey, NftRuleDef, NftSelector, NftSetDef, NftVerdictDef } from '../types.js'
import { renderNftRule } from '../render-nft.js'
import { setStateKey } from './set-state.js'
import { compileLiteral, compilePart, parseNumber, partMatches, type PartTest, type Val } from './values.js'
import type { WalkEnv } from './walk-env.js'

export type CVerdict =
  | { readonly k: 'accept' | 'drop' | 'return' | 'continue' }
  | { readonly k: 'reject'; readonly with?: string }
  | { readonly k: 'jump' | 'goto'; readonly chain: CChain }

/** undefined: go on with the next step; false: the rule does not match; a verdict ends the rule. */
export type StepResult = undefined | false | CVerdict
export type Step = (env: WalkEnv) => StepResult

export interface CRule {
  /** 1-based position in the chain. */
  readonly n: number
  readonly def: NftRuleDef
  steps: Step[]
}

export interface CChain {
  readonly table: string
  readonly name: string
  readonly base?: NftBaseChainDef
  readonly rules: CRule[]
}

export interface CSet {
  readonly stateKey: string
  readonly def: NftSetDef
  readonly exact: Map<string, SetEntry>
  readonly intervals: (SetEntry & { readonly parts: readonly PartTest[] })[]
  readonly dynamic: boolean
}

/** A set or map element as compiled: its verdict (maps) and its definition (for hops). */
export interface SetEntry {
  readonly value: CVerdict | true
  readonly el?: NftElementDef
}

const dynamicEntry: SetEntry = { value: true }

export type HookName = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting'

export interface NftProgram {
  readonly hooks: Readonly<Record<HookName, readonly CChain[]>>
  readonly chains: ReadonlyMap<string, CChain>
  readonly sets: ReadonlyMap<string, CSet>
}

/** What a selector yields, to type the literal it is compared with. */
function literalKind(s: NftSelector): 'addr' | 'num' | 'name' {
  if (s.kind === 'payload') return s.field === 'saddr' || s.field === 'daddr' ? 'addr' : 'num'
  if (s.kind === 'ct-dir') return s.key === 'saddr' || s.key === 'daddr' ? 'addr' : 'num'
  if (s.kind === 'meta') return s.key === 'mark' ? 'num' : 'name'
  if (s.kind === 'numgen') return 'num'
  return 'name'
}

/** The set data type whose element texts compare with what a selector yields. */
function dataTypeOf(s: NftSelector): string {
  const k = literalKind(s)
  return k === 'addr' ? 'ipv4_addr' : k === 'num' ? 'inet_service' : s.kind === 'meta' && s.key === 'l4proto' ? 'inet_proto' : 'string'
}

const setKeyOf = (vals: readonly Val[]): string => (vals.length === 1 ? vals[0]!.key : vals.map((v) => v.key).join(' . '))

class Compiler {
  readonly chains = new Map<string, CChain>()
  readonly sets = new Map<string, CSet>()
  table = ''
  where = ''

  fail(reason: string): never {
    throw new ParseError(0, `${this.where}: ${reason}`, { source: 'nft ruleset' })
  }

  verdict(v: NftVerdictDef): CVerdict {
    if (v.kind === 'jump' || v.kind === 'goto') {
      const chain = this.chains.get(`${this.table} ${v.chain}`) ?? this.fail(`${v.kind} to unknown chain ${v.chain}`)
      return { k: v.kind, chain }
    }
    return v.kind === 'reject' && v.with !== undefined ? { k: 'reject', with: v.with } : { k: v.kind }
  }

  compileSet(def: NftSetDef): CSet {
    const exact = new Map<string, SetEntry>()
    const intervals: CSet['intervals'][number][] = []
    const set: CSet = { stateKey: setStateKey(this.table, def.name), def, exact, intervals, dynamic: def.flags.includes('dynamic') }
    this.sets.set(set.stateKey, set)
    return set
  }

  fillSet(set: CSet, elements: readonly NftElementDef[]): void {
    for (const e of elements) {
      const value: CVerdict | true = e.verdict ? this.verdict(e.verdict) : true
      const parts = e.key.map((t, i) => compilePart(set.def.keyType[i] ?? '', t) ?? this.fail(`element ${e.key.join(' . ')} of ${set.def.name}: "${t}" is not a ${set.def.keyType[i]}`))
      if (parts.every((p) => 'exact' in p)) set.exact.set(parts.map((p) => (p as { exact: string }).exact).join(' . '), { value, el: e })
      else set.intervals.push({ parts, value, el: e })
    }
  }

  /** Compiles a key to a function that reads it from the packet (undefined: does not apply). */
  key(k: NftKey): (env: WalkEnv) => Val[] | undefined {
    const reads = k.parts.map((s) => (env: WalkEnv) => env.read(s))
    const mask = k.mask === undefined ? undefined : (parseNumber(k.mask) ?? this.fail(`bad mask ${k.mask}`))
    return (env) => {
      const out: Val[] = []
      for (const r of reads) {
        const v = r(env)
        if (v === undefined) return undefined
        out.push(mask !== undefined && v.num !== undefined ? { key: String((v.num & mask) >>> 0), num: (v.num & mask) >>> 0 } : v)
      }
      return out
    }
  }

  lookup(set: CSet, vals: readonly Val[], env: WalkEnv): SetEntry | undefined {
    const key = setKeyOf(vals)
    const hit = set.exact.get(key)
    if (hit !== undefined) return hit
    for (const iv of set.intervals) if (iv.parts.every((p, i) => partMatches(p, vals[i]!))) return iv
    if (set.dynamic && env.dynamicHas(set.stateKey, key)) return dynamicEntry
    return undefined
  }

  /** A verdict map lookup: the element's verdict (recorded for the hop), or false (the rule does not apply). */
  mapVerdict(set: CSet, vals: readonly Val[] | undefined, env: WalkEnv): StepResult {
    const hit = vals && this.lookup(set, vals, env)
    if (hit === undefined || hit.value === true) return false
    if (hit.el) env.element = { map: set.def.name, element: hit.el }
    return hit.value
  }

  setRef(name: string): CSet {
    return this.sets.get(setStateKey(this.table, name)) ?? this.fail(`unknown set @${name}`)
  }

  expr(e: NftExpr): Step {
    switch (e.kind) {
      case 'match': {
        const read = this.key(e.key)
        const neg = e.op === '!='
        const r = e.right
        let test: (vals: Val[], env: WalkEnv) => boolean
        if (r.kind === 'set-ref') {
          const set = this.setRef(r.set)
          test = (vals, env) => this.lookup(set, vals, env) !== undefined
        } else {
          if (e.key.parts.length !== 1) this.fail('a concatenation compares only with a set')
          const kind = literalKind(e.key.parts[0]!)
          const items = r.kind === 'anonymous-set' ? r.items : r.values
          const parts = items.map((t) => compileLiteral(kind, t) ?? this.fail(`"${t}" is not a valid value here`))
          // `ct state new,established` and `{ a , b }` are both "any of".
          test = (vals) => parts.some((p) => partMatches(p, vals[0]!))
        }
        return (env) => {
          const vals = read(env)
          if (vals === undefined) return false
          return test(vals, env) !== neg ? undefined : false
        }
      }
      case 'vmap': {
        const read = this.key(e.key)
        if (e.map.kind === 'set-ref') {
          const set = this.setRef(e.map.set)
          if (set.def.kind !== 'map') this.fail(`@${e.map.set} is a set, not a verdict map`)
          return (env) => this.mapVerdict(set, read(env), env)
        }
        const ng = e.key.parts.length === 1 && e.key.parts[0]!.kind === 'numgen' ? e.key.parts[0] : undefined
        const inline = this.compileSet({ kind: 'map', name: `vmap@${this.where}`, keyType: e.key.parts.map(dataTypeOf), flags: [], elements: [] })
        this.fillSet(inline, e.map.elements)
        if (ng) {
          // numgen: every branch 0..mod-1 is a possible outcome; the env picks one (explore: all).
          const mod = ng.mod
          return (env) => {
            const n = env.pick(mod)
            env.branch = { taken: n, of: mod }
            const v = inline.exact.get(String(n))?.value
            return v === undefined || v === true ? false : v
          }
        }
        return (env) => this.mapVerdict(inline, read(env), env)
      }
      case 'counter':
      case 'log':
        return () => undefined
      case 'mark-set': {
        const value = parseNumber(e.value) ?? this.fail(`bad mark ${e.value}`)
        const op = e.op
        return (env) => {
          env.mark = (op === 'or' ? env.mark | value : op === 'xor' ? env.mark ^ value : op === 'and' ? env.mark & value : value) >>> 0
          return undefined
        }
      }
      case 'set-update': {
        const set = this.setRef(e.set)
        const read = this.key(e.key)
        const timeout = set.def.timeoutMs ?? 0
        return (env) => {
          const vals = read(env)
          if (vals) env.updateSet(set.stateKey, set.def.name, setKeyOf(vals), e.op, timeout)
          return undefined
        }
      }
      case 'masquerade':
        return (env) => {
          env.masquerade = true
          return acceptV
        }
      case 'dnat': {
        const to = e.to
        return (env) => (env.applyDnat(to) ? acceptV : false)
      }
      case 'snat': {
        const to = e.to
        return (env) => {
          env.snatTo = to
          return acceptV
        }
      }
      case 'verdict': {
        const v = this.verdict(e.verdict)
        return () => v
      }
    }
  }
}

const acceptV: CVerdict = { k: 'accept' }

const hookNames: readonly HookName[] = ['prerouting', 'input', 'forward', 'output', 'postrouting']

export function compileNft(doc: NftDocument): NftProgram {
  const c = new Compiler()
  for (const t of doc.tables) {
    c.table = `${t.family} ${t.name}`
    for (const ch of t.chains) c.chains.set(`${c.table} ${ch.name}`, { table: c.table, name: ch.name, ...(ch.base ? { base: ch.base } : {}), rules: [] })
  }
  for (const t of doc.tables) {
    c.table = `${t.family} ${t.name}`
    for (const s of t.sets) {
      c.where = `${c.table} ${s.kind} ${s.name}`
      c.fillSet(c.compileSet(s), s.elements)
    }
  }
  for (const t of doc.tables) {
    c.table = `${t.family} ${t.name}`
    for (const ch of t.chains) {
      const chain = c.chains.get(`${c.table} ${ch.name}`)!
      ch.rules.forEach((r, i) => {
        c.where = `${c.table} chain ${ch.name} rule ${i + 1} (${renderNftRule(r)})`
        chain.rules.push({ n: i + 1, def: r, steps: r.exprs.map((e) => c.expr(e)) })
      })
    }
  }
  const hooks = Object.fromEntries(hookNames.map((h) => [h, [] as CChain[]])) as Record<HookName, CChain[]>
  for (const ch of c.chains.values()) if (ch.base && ch.base.hook in hooks) hooks[ch.base.hook as HookName].push(ch)
  for (const h of hookNames) hooks[h].sort((a, b) => a.base!.priority - b.base!.priority)
  return { hooks, chains: c.chains, sets: c.sets }
}
