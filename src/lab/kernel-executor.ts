/**
 * The RuleExecutor for a real kernel: one node's network namespace, one IP family and iptables
 * backend. Restore text goes to `iptables-restore` (with --noflush and --counters as the proxier
 * asks); the ensure commands run as `iptables -N` and `iptables -C` / `-I CHAIN 1`, as upstream.
 */
import type { ChainName } from '../net/index.js'
import { renderRuleArgs, tokenizeRestoreLine, type Rule, type RuleExecutor, type TableName } from '../proxy/netfilter/index.js'
import type { IPFamily } from '../net/index.js'
import type { IptablesBackend } from './netns.js'
import { iptablesCommand, type NetnsRunner } from './node-rules.js'

export interface KernelExecutorOptions {
  /** Runs argv inside the node's namespace. */
  readonly run: NetnsRunner
  readonly family: IPFamily
  readonly backend: IptablesBackend
}

export class KernelExecutor implements RuleExecutor {
  readonly #o: KernelExecutorOptions
  #applies = 0

  constructor(opts: KernelExecutorOptions) {
    this.#o = opts
  }

  get applies(): number {
    return this.#applies
  }

  async apply(text: string, opts: { readonly flush: 'no-flush' | 'flush'; readonly counters: 'restore' | 'reset' }): Promise<void> {
    const argv = [this.#command('restore'), '-w', ...(opts.flush === 'no-flush' ? ['--noflush'] : []), ...(opts.counters === 'restore' ? ['--counters'] : [])]
    await this.#o.run(argv, { input: text })
    this.#applies++
  }

  async ensureChain(table: TableName, chain: ChainName): Promise<void> {
    const argv = [this.#command('iptables'), '-w', '-t', table, '-N', chain]
    const res = await this.#o.run(argv, { onNonZeroExit: 'return' })
    // -N on an existing chain exits 1 with "Chain already exists"; anything else is a real failure.
    if (res.code !== 0 && !/exists/i.test(res.stderr)) await this.#o.run(argv)
  }

  async ensureRule(_position: 'prepend', table: TableName, chain: string, rule: Rule): Promise<void> {
    const args = tokenizeRestoreLine(renderRuleArgs(rule).trim(), 1).map((t) => t.text)
    const base = [this.#command('iptables'), '-w', '-t', table]
    const check = await this.#o.run([...base, '-C', chain, ...args], { onNonZeroExit: 'return' })
    if (check.code !== 0) await this.#o.run([...base, '-I', chain, '1', ...args])
  }

  #command(tool: 'iptables' | 'restore'): string {
    return iptablesCommand(this.#o.family, this.#o.backend, tool)
  }
}
