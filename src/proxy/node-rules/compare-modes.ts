/**
 * One node's rules in both modes, side by side per Service port: what each Service becomes in
 * iptables mode and in nftables mode, for a person migrating. Grouped by typed provenance on
 * both sides (iptables/rule-origin.ts, nftables/nft-origin.ts); node-wide rules last.
 */
import { originServicePort, sortedByService, type Provenance } from '../iptables/index.js'
import { renderRuleArgs, type RuleTable } from '../netfilter/index.js'
import { renderElement, renderRuleBody, type NftProvenance, type NftRuleset } from '../nftables/index.js'

const nodeWide = '(node-wide)'

export interface ModeLines {
  readonly service: string
  readonly iptables: readonly string[]
  readonly nftables: readonly string[]
}

export function compareModes(ipt: { readonly table: RuleTable; readonly provenance: Provenance }, nft: { readonly ruleset: NftRuleset; readonly provenance: NftProvenance }): ModeLines[] {
  const groups = new Map<string, { iptables: string[]; nftables: string[] }>()
  const at = (service: string | undefined): { iptables: string[]; nftables: string[] } => {
    const key = service ?? nodeWide
    let g = groups.get(key)
    if (!g) groups.set(key, (g = { iptables: [], nftables: [] }))
    return g
  }
  for (const t of ipt.table.tables) {
    for (const c of t.chains) {
      for (const r of c.rules) {
        const o = ipt.provenance.get(r)
        at(o && originServicePort(o)).iptables.push(`-t ${t.name} -A ${c.name}${renderRuleArgs(r)}`)
      }
    }
  }
  const rs = nft.ruleset
  const prefix = `${rs.family} ${rs.table.name}`
  const nftService = (o: Parameters<NftProvenance['get']>[0]): string | undefined => {
    const origin = nft.provenance.get(o)
    return origin && originServicePort(origin)
  }
  for (const c of rs.chains) for (const r of c.rules) at(nftService(r)).nftables.push(`add rule ${prefix} ${c.name} ${renderRuleBody(r, rs.family)}`)
  for (const s of [...rs.sets, ...rs.maps]) for (const e of s.elements) at(nftService(e)).nftables.push(renderElement(s.name, prefix, e).trimEnd())
  return sortedByService(groups).map(([service, g]) => ({ service, ...g }))
}

export function renderModeComparison(groups: readonly ModeLines[]): string {
  let out = ''
  for (const g of groups) {
    out += `=== ${g.service}\n--- iptables (${g.iptables.length} rules)\n`
    for (const l of g.iptables) out += `${l}\n`
    out += `--- nftables (${g.nftables.length} rules and elements)\n`
    for (const l of g.nftables) out += `${l}\n`
  }
  return out
}
