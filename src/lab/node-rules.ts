/**
 * The iptables tools of one family and backend inside a lab namespace, and the kernel's saved
 * form read back for comparison. Loading rules is KernelExecutor's job (via the proxier's own
 * ensureJumpChains and one `--noflush` restore); this module only names commands and reads.
 */
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

/** The kernel's `iptables-save` for one family and backend. */
export async function saveNodeRules(run: NetnsRunner, family: IPFamily, backend: IptablesBackend): Promise<string> {
  return (await run([iptablesCommand(family, backend, 'save')])).stdout
}

/**
 * iptables-save text normalized for comparison: `#` lines dropped, chain and rule counters
 * zeroed, and tables keyed by name (the kernel's table order is not part of the contract).
 * Scans lines by hand on purpose instead of using parseIptablesSave: the comparison is of the
 * kernel's own printing of each rule byte for byte, which a parse-and-render would normalize away.
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
