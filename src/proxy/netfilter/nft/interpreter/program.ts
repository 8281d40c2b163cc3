/**
 * NftDocument -> a program the walk runs: base chains per hook sorted by priority, every rule
 * compiled once into one code array (steps shared by every rule that spells them alike, each
 * followed by its per-rule operands), jumps resolved to code offsets, and every set and map
 * compiled to a SetIndex (exact keys in a trie of Maps, intervals by sorted breakpoints). A walk
 * allocates nothing per rule and reads few objects of its own Service.
 */
import { ParseError } from '../../../../errors.js'
import type { NftBaseChainDef, NftDocument, NftElementDef, NftExpr, NftKey, NftRuleDef, NftSelector, NftSetDef, NftVerdictDef } from '../types.js'
import { renderNftRule } from '../render-nft.js'
import { setStateKey } from './set-state.js'
import { SetIndex } from './set-index.js'
import { compileLiteral, compilePart, numVal, parseNumber, type PartTest, type Val } from './values.js'
import { acceptVerdict as acceptV, dnatStep, dnatV4Step, equalsStep, numgenBranch, numgenBranchWords, numgenStep, verdictStep } from './steps.js'
import { parseDnatTarget, type WalkEnv } from './walk-env.js'

export type CVerdict =
  | { readonly k: 'accept' | 'drop' | 'return' | 'continue' }
  | { readonly k: 'reject'; readonly with?: string }
  | CJump

/** A jump or goto, with where its target's rules are in the program's code (set once laid out), so following it reads no chain object. */
export interface CJump {
  readonly k: 'jump' | 'goto'
  readonly chain: CChain
  start: number
  end: number
}

/** undefined: go on with the next step; false: the rule does not match; a verdict ends the rule. */
export type StepResult = undefined | false | CVerdict
/** One compiled expression of a rule, run against the walk's state. */
export interface Step {
  /** How many words after the step in its chain's code are its operands (per rule values). */
  readonly operands: number
  /** `at` is the step's own position in `code`; its operands follow it. */
  run(env: WalkEnv, code: Code, at: number): StepResult
  /** Operands that point at chains are given their offsets here, once every chain is laid out. */
  link?(code: Code, at: number): void
}

/** A chain's code: for each rule, its word count, then each step followed by its operands. */
export type Code = unknown[]

/** A step made once and shared by every rule that spells it the same way. */
const sharedStep = (run: (env: WalkEnv) => StepResult): Step => ({ operands: 0, run })

export interface CRule {
  /** 1-based position in the chain. */
  readonly n: number
  readonly def: NftRuleDef
}

export interface CChain {
  readonly table: string
  readonly name: string
  readonly base?: NftBaseChainDef
  /** The rules as written (hops name them). */
  readonly rules: CRule[]
  /**
   * What the walk runs: the program's one code array, where this chain is [start, end): each rule
   * as its word count followed by its steps and their operands. Chains are laid out in the order
   * the table declares them, which in kube-proxy's tables puts one Service's chain and its
   * endpoints' chains next to each other, so one connection's walk reads a few adjacent lines.
   */
  readonly code: Code
  start: number
  end: number
}

export interface CSet {
  readonly stateKey: string
  readonly def: NftSetDef
  readonly index: SetIndex<SetEntry>
  readonly dynamic: boolean
}

/** A set or map element as compiled: its key parts, its verdict (maps) and its definition (for hops). */
export interface SetEntry {
  readonly parts: readonly PartTest[]
  readonly value: CVerdict | true
  readonly el: NftElementDef | undefined
  /**
   * A jump or goto value again, inline: its kind, chain and offsets (set once every chain is laid
   * out), so a verdict-map hit reads no verdict object of the Service's, one cache and TLB miss
   * less per connection at 10,000 Services.
   */
  readonly jump: 'jump' | 'goto' | undefined
  readonly chain: CChain | undefined
  start: number
  end: number
}

const dynamicEntry: SetEntry = { parts: [], value: true, el: undefined, jump: undefined, chain: undefined, start: 0, end: 0 }

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

/** A dynamic set's key text (`10.0.0.1 . 80`): the state's key and what a set effect reports. */
const setKeyOf = (vals: readonly Val[]): string => (vals.length === 1 ? String(vals[0]!.key) : vals.map((v) => v.key).join(' . '))

class Compiler {
  readonly chains = new Map<string, CChain>()
  readonly sets = new Map<string, CSet>()
  /** Every chain's code, one after another. */
  readonly image: Code = []
  /** Jumps and gotos, to point at their targets' code once it is laid out. */
  readonly jumps: CJump[] = []
  /** Set and map elements whose value is a jump or goto, to copy their targets' offsets. */
  readonly entryJumps: SetEntry[] = []
  table = ''
  /** What is being compiled, for messages: a set, or a chain's rule (spelled out only when needed). */
  at: { readonly set: NftSetDef } | { readonly chain: string; readonly n: number; readonly rule: NftRuleDef } | undefined

  get where(): string {
    const at = this.at
    if (at === undefined) return this.table
    if ('set' in at) return `${this.table} ${at.set.kind} ${at.set.name}`
    return `${this.table} chain ${at.chain} rule ${at.n} (${renderNftRule(at.rule)})`
  }

  fail(reason: string): never {
    throw new ParseError(0, `${this.where}: ${reason}`, { source: 'nft ruleset' })
  }

  /**
   * Compiled forms shared by every rule and element that spells them the same way in one table
   * (`jump mark-for-masquerade`, `ip saddr != 10.244.0.0/16`, `ip daddr`): the walk of one packet
   * through a per-Service chain then touches few objects of its own, so a large table costs
   * about what a small one does.
   */
  readonly #shared = new Map<string, unknown>()

  #sharedBy<T>(what: string, spec: unknown, make: () => T): T {
    const id = `${what}\n${this.table}\n${JSON.stringify(spec)}`
    let v = this.#shared.get(id) as T | undefined
    if (v === undefined) this.#shared.set(id, (v = make()))
    return v
  }

  verdict(v: NftVerdictDef): CVerdict {
    return this.#sharedBy('verdict', v, (): CVerdict => {
      if (v.kind === 'jump' || v.kind === 'goto') {
        const chain = this.chains.get(`${this.table} ${v.chain}`) ?? this.fail(`${v.kind} to unknown chain ${v.chain}`)
        const j: CJump = { k: v.kind, chain, start: 0, end: 0 }
        this.jumps.push(j)
        return j
      }
      return v.kind === 'reject' && v.with !== undefined ? { k: 'reject', with: v.with } : { k: v.kind }
    })
  }

  /** An element key part; exact ones (`tcp`, `80`) are shared by every element that has them. */
  part(type: string, text: string): PartTest | undefined {
    const p = compilePart(type, text)
    return p && 'exact' in p ? this.#sharedBy('part', p.exact, () => p) : p
  }

  /** A rule's expression as code words (a step, then its operands); an inline verdict map is named after its rule (hops show it), so it is never shared. */
  step(e: NftExpr): readonly unknown[] {
    return e.kind === 'vmap' && e.map.kind === 'inline' ? this.expr(e) : this.#sharedBy('step', e, () => this.expr(e))
  }

  compileSet(def: NftSetDef): CSet {
    const set: CSet = { stateKey: setStateKey(this.table, def.name), def, index: new SetIndex(def.keyType.length), dynamic: def.flags.includes('dynamic') }
    this.sets.set(set.stateKey, set)
    return set
  }

  fillSet(set: CSet, elements: readonly NftElementDef[]): void {
    for (const e of elements) {
      const value: CVerdict | true = e.verdict ? this.verdict(e.verdict) : true
      if (e.key.length !== set.def.keyType.length) this.fail(`element ${e.key.join(' . ')} of ${set.def.name} has ${e.key.length} key parts; the key is ${set.def.keyType.join(' . ')}`)
      const parts = e.key.map((t, i) => this.part(set.def.keyType[i]!, t) ?? this.fail(`element ${e.key.join(' . ')} of ${set.def.name}: "${t}" is not a ${set.def.keyType[i]}`))
      const jump = value !== true && (value.k === 'jump' || value.k === 'goto') ? value : undefined
      const entry: SetEntry = { parts, value, el: e, jump: jump?.k, chain: jump?.chain, start: 0, end: 0 }
      if (jump) this.entryJumps.push(entry)
      set.index.add(entry)
    }
  }

  /**
   * Compiles a key to a function that reads it from the packet (undefined: does not apply). The
   * values land in one array per compiled key, reused by every call: a step uses them at once,
   * and nothing runs between reading a key and using it.
   */
  key(k: NftKey): (env: WalkEnv) => readonly Val[] | undefined {
    return this.#sharedBy('key', k, () => this.keyReader(k))
  }

  /** One selector object per spelling: the parsed rule's own is one more object for a packet to reach. */
  selector(s: NftSelector): NftSelector {
    return this.#sharedBy('selector', s, () => s)
  }

  keyReader(k: NftKey): (env: WalkEnv) => readonly Val[] | undefined {
    const sels = k.parts.map((s) => this.selector(s))
    const mask = k.mask === undefined ? undefined : (parseNumber(k.mask) ?? this.fail(`bad mask ${k.mask}`))
    const out: Val[] = sels.map(() => numVal(0))
    return (env) => {
      for (let i = 0; i < sels.length; i++) {
        const v = env.read(sels[i]!)
        if (v === undefined) return undefined
        out[i] = mask !== undefined && v.num !== undefined ? numVal((v.num & mask) >>> 0) : v
      }
      return out
    }
  }

  lookup(set: CSet, vals: readonly Val[], env: WalkEnv): SetEntry | undefined {
    const hit = set.index.lookup(vals)
    if (hit !== undefined) return hit
    if (set.dynamic && env.dynamicHas(set.stateKey, setKeyOf(vals))) return dynamicEntry
    return undefined
  }

  /** A verdict map lookup: the element's verdict (recorded for the hop), or false (the rule does not apply). */
  mapVerdict(set: CSet, vals: readonly Val[] | undefined, env: WalkEnv): StepResult {
    const hit = vals && this.lookup(set, vals, env)
    if (hit === undefined || hit.value === true) return false
    if (hit.el && env.hops) env.element = { map: set.def.name, element: hit.el }
    return hit.jump === undefined ? hit.value : env.jumpVia(hit.jump, hit.chain!, hit.start, hit.end)
  }

  setRef(name: string): CSet {
    return this.sets.get(setStateKey(this.table, name)) ?? this.fail(`unknown set @${name}`)
  }

  /** The words of one expression: a step, then its operands. */
  expr(e: NftExpr): readonly unknown[] {
    const w = this.words(e)
    return Array.isArray(w) ? w : [w]
  }

  words(e: NftExpr): Step | readonly unknown[] {
    switch (e.kind) {
      case 'match': {
        const read = this.key(e.key)
        const neg = e.op === '!='
        const r = e.right
        let test: (vals: readonly Val[], env: WalkEnv) => boolean
        if (r.kind === 'set-ref') {
          const set = this.setRef(r.set)
          test = (vals, env) => this.lookup(set, vals, env) !== undefined
        } else {
          if (e.key.parts.length !== 1) this.fail('a concatenation compares only with a set')
          const kind = literalKind(e.key.parts[0]!)
          const items = r.kind === 'anonymous-set' ? r.items : r.values
          const parts = items.map((t) => compileLiteral(kind, t) ?? this.fail(`"${t}" is not a valid value here`))
          // `ct state new,established` and `{ a , b }` are both "any of": a one-part set.
          const only = parts.length === 1 ? parts[0]! : undefined
          if (only && 'exact' in only && e.key.mask === undefined) {
            // The commonest rule of all (`ip daddr 10.96.0.7`, `meta l4proto tcp`): one compare, no key array.
            const sel = this.selector(e.key.parts[0]!)
            return [this.#sharedBy('equals', [sel, neg], () => equalsStep(sel, neg)), only.exact]
          } else {
            const index = new SetIndex<{ parts: readonly PartTest[] }>(1)
            for (const p of parts) index.add({ parts: [p] })
            test = (vals) => index.lookup(vals) !== undefined
          }
        }
        return sharedStep((env) => {
          const vals = read(env)
          if (vals === undefined) return false
          return test(vals, env) !== neg ? undefined : false
        })
      }
      case 'vmap': {
        const read = this.key(e.key)
        if (e.map.kind === 'set-ref') {
          const set = this.setRef(e.map.set)
          if (set.def.kind !== 'map') this.fail(`@${e.map.set} is a set, not a verdict map`)
          return sharedStep((env) => this.mapVerdict(set, read(env), env))
        }
        const ng = e.key.parts.length === 1 && e.key.parts[0]!.kind === 'numgen' ? e.key.parts[0] : undefined
        const inline = this.compileSet({ kind: 'map', name: `vmap@${this.where}`, keyType: e.key.parts.map(dataTypeOf), flags: [], elements: [] })
        this.fillSet(inline, e.map.elements)
        if (ng) {
          // numgen: every branch 0..mod-1 is a possible outcome; the env picks one (explore: all).
          const mod = ng.mod
          const branchOf = (n: number): StepResult => {
            const v = inline.index.lookup([numVal(n)])?.value
            return v === undefined || v === true ? false : v
          }
          // Looked up once per branch here (kube-proxy's mods are endpoint counts); a huge mod is looked up per packet.
          if (mod > 65536) return numgenStep(mod, 0, branchOf)
          return [this.#sharedBy('numgen', mod, () => numgenStep(mod, mod * numgenBranchWords, undefined)), ...Array.from({ length: mod }, (_, n) => numgenBranch(branchOf(n))).flat()]
        }
        return sharedStep((env) => this.mapVerdict(inline, read(env), env))
      }
      case 'counter':
      case 'log':
        return sharedStep(() => undefined)
      case 'mark-set': {
        const value = parseNumber(e.value) ?? this.fail(`bad mark ${e.value}`)
        const op = e.op
        return sharedStep((env) => {
          env.mark = (op === 'or' ? env.mark | value : op === 'xor' ? env.mark ^ value : op === 'and' ? env.mark & value : value) >>> 0
          return undefined
        })
      }
      case 'set-update': {
        const set = this.setRef(e.set)
        const read = this.key(e.key)
        const timeout = set.def.timeoutMs ?? 0
        return sharedStep((env) => {
          const vals = read(env)
          if (vals) env.updateSet(set.stateKey, set.def.name, setKeyOf(vals), e.op, timeout)
          return undefined
        })
      }
      case 'masquerade':
        return sharedStep((env) => {
          env.masquerade = true
          return acceptV
        })
      case 'dnat': {
        const t = parseDnatTarget(e.to)
        return t.address?.family === 'IPv4' ? [dnatV4Step, t.address.v4, t.address.text, t.port, t.to] : dnatStep(t)
      }
      case 'snat': {
        const to = e.to
        return sharedStep((env) => {
          env.snatTo = to
          return acceptV
        })
      }
      case 'verdict': {
        return verdictStep(this.verdict(e.verdict))
      }
    }
  }
}


/** Gives every step that asks for it (`link`) its operands' chain offsets. */
function linkSteps(code: Code): void {
  for (let pc = 0; pc < code.length; ) {
    const ruleEnd = pc + 1 + (code[pc] as number)
    for (pc++; pc < ruleEnd; ) {
      const step = code[pc] as Step
      step.link?.(code, pc)
      pc += 1 + step.operands
    }
  }
}

const hookNames: readonly HookName[] = ['prerouting', 'input', 'forward', 'output', 'postrouting']

export function compileNft(doc: NftDocument): NftProgram {
  const c = new Compiler()
  for (const t of doc.tables) {
    c.table = `${t.family} ${t.name}`
    for (const ch of t.chains) c.chains.set(`${c.table} ${ch.name}`, { table: c.table, name: ch.name, ...(ch.base ? { base: ch.base } : {}), rules: [], code: c.image, start: 0, end: 0 })
  }
  for (const t of doc.tables) {
    c.table = `${t.family} ${t.name}`
    for (const s of t.sets) {
      c.at = { set: s }
      c.fillSet(c.compileSet(s), s.elements)
    }
  }
  for (const t of doc.tables) {
    c.table = `${t.family} ${t.name}`
    for (const ch of t.chains) {
      const chain = c.chains.get(`${c.table} ${ch.name}`)!
      chain.start = c.image.length
      ch.rules.forEach((r, i) => {
        // Not the message itself: rendering every rule's text would be most of what compiling allocates.
        c.at = { chain: ch.name, n: i + 1, rule: r }
        const steps = r.exprs.map((e) => c.step(e))
        chain.rules.push({ n: i + 1, def: r })
        const words = steps.flat()
        c.image.push(words.length, ...words)
      })
      chain.end = c.image.length
    }
  }
  for (const j of c.jumps) {
    j.start = j.chain.start
    j.end = j.chain.end
  }
  for (const e of c.entryJumps) {
    e.start = (e.value as CJump).start
    e.end = (e.value as CJump).end
  }
  linkSteps(c.image)
  const hooks = Object.fromEntries(hookNames.map((h) => [h, [] as CChain[]])) as Record<HookName, CChain[]>
  for (const ch of c.chains.values()) if (ch.base && ch.base.hook in hooks) hooks[ch.base.hook as HookName].push(ch)
  for (const h of hookNames) hooks[h].sort((a, b) => a.base!.priority - b.base!.priority)
  return { hooks, chains: c.chains, sets: c.sets }
}
