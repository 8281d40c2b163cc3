/**
 * Loads one node's rules into a network namespace the way kube-proxy does, and reads them back:
 * canary and jump chains ensured with `iptables -N` / `-C` / `-I CHAIN 1` (upstream
 * iptablesJumpChains, in builtinJumpRules order), then the KUBE-* chains with
 * `iptables-restore --noflush --counters`. Never feeds a full save text with --noflush
 * (KERNEL-LAB-NOTES gotcha 6). Runs only through the namespace runner it is given.
 */
import { builtinJumpRules, kubeProxyCanaryChain } from '../proxy/iptables/index.js'
import { renderIptablesRestore, renderRuleArgs, tokenizeRestoreLine, type RuleTable, type TableName } from '../proxy/netfilter/index.js'
import type { ExecResult, IptablesBackend, RunOptions } from './netns.js'
import type { IPFamily } from '../net/index.js'

/** Runs argv inside one namespace (`ip netns exec NS argv...`). */
export type NetnsRunner = (argv: readonly string[], opts?: RunOptions) => Promise<ExecResult>

export type IptablesTool = 'iptables' | 'restore' | 'save'

/** iptables-nft, ip6tables-legacy-restore, iptables-nft-save, ... */
export function iptablesCommand(family: IPFamily, backend: IptablesBackend, tool: IptablesTool): string {
  const base = family === 'IPv4' ? 'iptables' : 'ip6tables'
  return tool === 'iptables' ? `${base}-${backend}` : `${base}-${backend}-${tool}`
}

export interface EnsureStep {
  /** `-N` steps may fail when the chain exists; `-C` failing means "insert". */
  readonly kind: 'new-chain' | 'check-then-insert'
  readonly argv: readonly string[]
  readonly insertArgv?: readonly string[]
}

/** The kube-proxy ensure commands for the canaries and built-in jump rules, in execution order. */
export function ensureSteps(family: IPFamily, backend: IptablesBackend): EnsureStep[] {
  const cmd = iptablesCommand(family, backend, 'iptables')
  const steps: EnsureStep[] = []
  for (const table of ['mangle', 'nat', 'filter'] as const satisfies readonly TableName[]) {
    steps.push({ kind: 'new-chain', argv: [cmd, '-w', '-t', table, '-N', kubeProxyCanaryChain] })
  }
  for (const j of builtinJumpRules()) {
    steps.push({ kind: 'new-chain', argv: [cmd, '-w', '-t', j.table, '-N', j.to] })
    const args = tokenizeRestoreLine(renderRuleArgs(j.rule).trim(), 1).map((t) => t.text)
    steps.push({
      kind: 'check-then-insert',
      argv: [cmd, '-w', '-t', j.table, '-C', j.from, ...args],
      insertArgv: [cmd, '-w', '-t', j.table, '-I', j.from, '1', ...args],
    })
  }
  return steps
}

export async function ensureJumpRules(run: NetnsRunner, family: IPFamily, backend: IptablesBackend): Promise<void> {
  for (const step of ensureSteps(family, backend)) {
    const res = await run(step.argv, { onNonZeroExit: 'return' })
    if (step.kind === 'new-chain') {
      // iptables -N on an existing chain exits 1 with "Chain already exists"; anything else is real.
      if (res.code !== 0 && !/exists/i.test(res.stderr)) await run(step.argv)
    } else if (res.code !== 0 && step.insertArgv) {
      await run(step.insertArgv)
    }
  }
}

export interface LoadRulesOptions {
  readonly family: IPFamily
  readonly backend: IptablesBackend
}

/** A kube-proxy sync: ensure the jump rules, then restore the KUBE-* chains without flushing the rest. */
export async function loadNodeRules(run: NetnsRunner, table: RuleTable, opts: LoadRulesOptions): Promise<void> {
  await ensureJumpRules(run, opts.family, opts.backend)
  await run([iptablesCommand(opts.family, opts.backend, 'restore'), '-w', '--noflush', '--counters'], { input: renderIptablesRestore(table) })
}

/** The kernel's `iptables-save` for one family and backend. */
export async function saveNodeRules(run: NetnsRunner, family: IPFamily, backend: IptablesBackend): Promise<string> {
  return (await run([iptablesCommand(family, backend, 'save')])).stdout
}

/**
 * iptables-save text normalized for comparison: `#` lines dropped, chain and rule counters
 * zeroed, and tables keyed by name (the kernel's table order is not part of the contract).
 */
export function normalizeSaveText(text: string): Map<string, string> {
  const tables = new Map<string, string>()
  let current: string | undefined
  let body: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (line === '' || line.startsWith('#')) continue
    if (line.startsWith('*')) {
      current = line.slice(1)
      body = [line]
      continue
    }
    if (line === 'COMMIT') {
      if (current !== undefined) tables.set(current, [...body, 'COMMIT'].join('\n') + '\n')
      current = undefined
      continue
    }
    body.push(line.startsWith(':') ? line.replace(/\[\d+:\d+\]$/, '[0:0]') : line.replace(/^\[\d+:\d+\] /, ''))
  }
  return tables
}
