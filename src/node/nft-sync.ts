/**
 * nftables mode for `kpe up`: after each sync of the node's proxier loop, the same model is
 * built as kube-proxy's nftables ruleset and written to the node's NftInterpreterExecutor as one
 * transaction that leaves dynamic sets (affinity) alone: every chain and every static set or map
 * the node holds is flushed and written again, and what the new ruleset no longer has is
 * deleted. (A full rewrite per sync; upstream's partial nftables syncs are not modelled here.)
 */
import type { ProxierConfig, ProxyState } from '../proxy/model/index.js'
import type { NftDocument, NftInterpreterExecutor } from '../proxy/netfilter/index.js'
import { buildNftablesRules, renderNftablesTransaction, type NftRuleset } from '../proxy/nftables/index.js'

export function nftSyncTransaction(held: NftDocument, rs: NftRuleset): string {
  const prefix = `${rs.family} ${rs.table.name}`
  const table = held.tables.find((t) => t.family === rs.family && t.name === rs.table.name)
  const chains = new Set(rs.chains.map((c) => c.name as string))
  const sets = new Set([...rs.sets, ...rs.maps].map((s) => s.name))
  const lines = [`add table ${prefix}`]
  for (const c of table?.chains ?? []) lines.push(`flush chain ${prefix} ${c.name}`)
  for (const s of table?.sets ?? []) if (!s.flags.includes('dynamic')) lines.push(`flush ${s.kind} ${prefix} ${s.name}`)
  const tail: string[] = []
  for (const c of table?.chains ?? []) if (!chains.has(c.name)) tail.push(`delete chain ${prefix} ${c.name}`)
  for (const s of table?.sets ?? []) if (!sets.has(s.name)) tail.push(`delete ${s.kind} ${prefix} ${s.name}`)
  return `${lines.join('\n')}\n${renderNftablesTransaction(rs)}${tail.map((l) => `${l}\n`).join('')}`
}

/** Writes the nftables form of a synced model to the node's nft executor. */
export async function syncNftables(executor: NftInterpreterExecutor, state: ProxyState, config: ProxierConfig): Promise<void> {
  await executor.apply(nftSyncTransaction(executor.document(), buildNftablesRules({ state, config })))
}
