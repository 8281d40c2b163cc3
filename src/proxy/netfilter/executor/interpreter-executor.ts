/**
 * The RuleExecutor the userspace dataplane runs on: keeps one node's tables, applies restore
 * text to them with iptables-restore's semantics (parsed back with parseIptablesSave, so the
 * interpreter sees exactly what the kernel would), and compiles the result for sample mode.
 * Starts as a fresh host (empty built-in chains); the proxier's ensure commands add the jumps.
 */
import { ExecError } from '../../../errors.js'
import type { ChainName, IPFamily } from '../../../net/index.js'
import { compile, CompileCache, type CompiledRules } from '../interpreter/index.js'
import { parseIptablesSave } from '../parse-iptables.js'
import { renderRuleArgs } from '../render-iptables.js'
import { builtinChains, type Rule, type RuleTable, type Table, type TableName } from '../types.js'
import type { RuleExecutor } from './rule-executor.js'
import { mergeRestore } from './restore-merge.js'

export class InterpreterExecutor implements RuleExecutor {
  #table: RuleTable
  #compiled: CompiledRules | undefined
  /** Rules and chains a restore left untouched are not compiled again (a partial sync names a few chains). */
  readonly #compileCache = new CompileCache()
  #applies = 0
  readonly #listeners = new Set<(table: RuleTable) => void>()
  readonly #source: string

  constructor(opts: { readonly family: IPFamily; readonly source?: string }) {
    const fresh = (['mangle', 'filter', 'nat'] as const).map((name): Table => ({
      name,
      chains: builtinChains[name].map((b) => ({ name: b as ChainName, policy: 'ACCEPT', rules: [] })),
      deletedChains: [],
    }))
    this.#table = { family: opts.family, tables: fresh }
    this.#source = opts.source ?? 'restore input'
  }

  async apply(text: string, opts: { readonly flush: 'no-flush' | 'flush'; readonly counters: 'restore' | 'reset' }): Promise<void> {
    const input = parseIptablesSave(text, { source: this.#source, family: this.#table.family })
    // Its tables only ever come out of mergeRestore or ensureRule, which both check every jump.
    const next = mergeRestore(this.#table, input, opts.flush, { currentChecked: true })
    const compiled = compile(next, { cache: this.#compileCache })
    this.#table = next
    this.#compiled = compiled
    this.#applies++
    for (const l of this.#listeners) l(next)
  }

  async ensureChain(table: TableName, chain: ChainName): Promise<void> {
    const t = this.#tableNamed(table)
    if (t.chains.some((c) => c.name === chain)) return
    this.#replace({ ...t, chains: [...t.chains, { name: chain, rules: [] }] })
  }

  async ensureRule(_position: 'prepend', table: TableName, chain: string, rule: Rule): Promise<void> {
    const t = this.#tableNamed(table)
    const c = t.chains.find((x) => x.name === chain)
    const args = renderRuleArgs(rule)
    // What `iptables -I` says for a missing chain or jump target; nothing changes then.
    if (!c) throw new ExecError('iptables', 1, `-t ${table} -I ${chain}: No chain/target/match by that name`)
    const target = rule.target?.kind === 'jump' || rule.target?.kind === 'goto' ? rule.target.chain : undefined
    if (target !== undefined && !t.chains.some((x) => x.name === target)) throw new ExecError('iptables', 2, `-t ${table} -I ${chain}: Couldn't load target \`${target}'`)
    if (c.rules.some((r) => renderRuleArgs(r) === args)) return
    this.#replace({ ...t, chains: t.chains.map((x) => (x === c ? { ...c, rules: [rule, ...c.rules] } : x)) })
  }

  /** The node's tables as they stand (iptables-save's view). */
  table(): RuleTable {
    return this.#table
  }

  compiled(): CompiledRules {
    return (this.#compiled ??= compile(this.#table, { cache: this.#compileCache }))
  }

  get applies(): number {
    return this.#applies
  }

  onApply(fn: (table: RuleTable) => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  #tableNamed(name: TableName): Table {
    const t = this.#table.tables.find((x) => x.name === name)
    if (!t) throw new ExecError('iptables', 3, `table ${name} does not exist`)
    return t
  }

  /** An ensure command changed one table: the compiled form is rebuilt when next asked for. */
  #replace(t: Table): void {
    this.#table = { ...this.#table, tables: this.#table.tables.map((x) => (x.name === t.name ? t : x)) }
    this.#compiled = undefined
  }
}
