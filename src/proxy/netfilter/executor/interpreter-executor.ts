/**
 * The RuleExecutor the userspace dataplane runs on: keeps one node's tables, applies restore
 * text to them with iptables-restore's semantics (parsed back with parseIptablesSave, so the
 * interpreter sees exactly what the kernel would), and compiles the result for sample mode.
 * Starts from the tables it is given: the node assembly passes a host with kube-proxy's jumps
 * from the built-in chains installed (a builder's knowledge, which netfilter does not have).
 */
import { compile, type CompiledRules } from '../interpreter/index.js'
import { parseIptablesSave } from '../parse-iptables.js'
import type { RuleTable } from '../types.js'
import type { RuleExecutor } from './rule-executor.js'
import { mergeRestore } from './restore-merge.js'

export class InterpreterExecutor implements RuleExecutor {
  #table: RuleTable
  #compiled: CompiledRules
  #applies = 0
  readonly #listeners = new Set<(table: RuleTable) => void>()
  readonly #source: string

  constructor(opts: { readonly initial: RuleTable; readonly source?: string }) {
    this.#table = opts.initial
    this.#compiled = compile(this.#table)
    this.#source = opts.source ?? 'restore input'
  }

  async apply(text: string, opts: { readonly flush: 'no-flush' | 'flush'; readonly counters: 'restore' | 'reset' }): Promise<void> {
    const input = parseIptablesSave(text, { source: this.#source, family: this.#table.family })
    const next = mergeRestore(this.#table, input, opts.flush)
    const compiled = compile(next)
    this.#table = next
    this.#compiled = compiled
    this.#applies++
    for (const l of this.#listeners) l(next)
  }

  /** The node's tables as they stand (iptables-save's view). */
  table(): RuleTable {
    return this.#table
  }

  compiled(): CompiledRules {
    return this.#compiled
  }

  get applies(): number {
    return this.#applies
  }

  onApply(fn: (table: RuleTable) => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }
}
