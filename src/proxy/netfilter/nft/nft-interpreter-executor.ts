/**
 * The NftRuleExecutor the userspace dataplane runs on in nftables mode: keeps one node's
 * nftables state, applies each transaction as `nft -f` does (all or nothing, with the kernel's
 * checks), and compiles the result for the interpreter. Dynamic sets (affinity) keep their
 * entries across transactions until the set is flushed or deleted, as in the kernel.
 */
import { ExecError, ParseError } from '../../../errors.js'
import type { NftRuleExecutor } from '../executor/index.js'
import { applyNftCommands, emptyNftDocument } from './apply-nft.js'
import { compileNft, type NftProgram } from './interpreter/program.js'
import { createNftSetState, setStateKey, type NftSetState } from './interpreter/set-state.js'
import { parseNft } from './parse-nft.js'
import { renderNftDocument } from './render-nft.js'
import type { NftCommand, NftDocument } from './types.js'

export class NftInterpreterExecutor implements NftRuleExecutor {
  #doc: NftDocument = emptyNftDocument
  #program: NftProgram = compileNft(emptyNftDocument)
  #applies = 0
  readonly #listeners = new Set<(doc: NftDocument) => void>()
  readonly #source: string
  /** Dynamic set entries (affinity), changed by sample-mode walks. */
  readonly sets: NftSetState = createNftSetState()

  constructor(opts: { readonly source?: string } = {}) {
    this.#source = opts.source ?? 'nft -f input'
  }

  async apply(transaction: string): Promise<void> {
    let next: NftDocument
    let program: NftProgram
    let commands: NftCommand[]
    try {
      commands = parseNft(transaction, { source: this.#source })
      next = applyNftCommands(this.#doc, commands, { source: this.#source })
      program = compileNft(next)
    } catch (e) {
      // What `nft -f` does with a transaction it refuses: exit 1, nothing changed.
      if (e instanceof ParseError) throw new ExecError('nft -f', 1, e.message)
      throw e
    }
    this.#doc = next
    this.#program = program
    this.#forgetSets(commands)
    this.#applies++
    for (const l of this.#listeners) l(next)
  }

  /** The node's tables as they stand. */
  document(): NftDocument {
    return this.#doc
  }

  program(): NftProgram {
    return this.#program
  }

  /** The tables as `nft -f` text (kpe's `add …` form). */
  list(): string {
    return renderNftDocument(this.#doc)
  }

  get applies(): number {
    return this.#applies
  }

  onApply(fn: (doc: NftDocument) => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  /** Entries of flushed or deleted sets go, as the kernel's do. */
  #forgetSets(commands: readonly NftCommand[]): void {
    for (const c of commands) {
      if (c.what === 'ruleset') this.sets.clear()
      else if (c.what === 'set' && c.op !== 'add') this.sets.delete(setStateKey(`${c.family} ${c.table}`, c.set.name))
      else if (c.what === 'table' && c.op !== 'add') for (const k of [...this.sets.keys()]) if (k.startsWith(`${c.family} ${c.table} `)) this.sets.delete(k)
    }
    for (const k of [...this.sets.keys()]) if (!this.#program.sets.has(k)) this.sets.delete(k)
  }
}
