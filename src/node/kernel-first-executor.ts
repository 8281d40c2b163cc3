/**
 * The proxier's executor in the kernel dataplane: every apply goes to the node's kernel first
 * and, only when the kernel took it, to the interpreter, so `kpe trace` and the connection log
 * predict from exactly the rules the kernel holds. A kernel refusal reaches the proxier as a
 * failed sync (its next sync is full, as upstream), and the interpreter stays at the last good rules.
 */
import type { ChainName } from '../net/index.js'
import type { NftRuleExecutor, Rule, RuleExecutor, TableName } from '../proxy/netfilter/index.js'

export class KernelFirstExecutor implements RuleExecutor {
  constructor(private readonly kernel: RuleExecutor, private readonly interpreter: RuleExecutor) {}

  async apply(text: string, opts: { readonly flush: 'no-flush' | 'flush'; readonly counters: 'restore' | 'reset' }): Promise<void> {
    await this.kernel.apply(text, opts)
    await this.interpreter.apply(text, opts)
  }

  async ensureChain(table: TableName, chain: ChainName): Promise<void> {
    await this.kernel.ensureChain(table, chain)
    await this.interpreter.ensureChain(table, chain)
  }

  async ensureRule(position: 'prepend', table: TableName, chain: string, rule: Rule): Promise<void> {
    await this.kernel.ensureRule(position, table, chain, rule)
    await this.interpreter.ensureRule(position, table, chain, rule)
  }
}

export class KernelFirstNftExecutor implements NftRuleExecutor {
  constructor(private readonly kernel: NftRuleExecutor, private readonly interpreter: NftRuleExecutor) {}

  async apply(transaction: string): Promise<void> {
    await this.kernel.apply(transaction)
    await this.interpreter.apply(transaction)
  }
}
