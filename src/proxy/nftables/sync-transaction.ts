/**
 * The `nft -f` transaction of one sync, from the table a node holds to the table it should hold
 * (upstream syncProxyRules' transaction at 531be812): aged stale chains deleted, on a full sync
 * every object re-added and every chain flushed and rewritten, on a partial sync only the changed
 * Services' chains, element differences, newly stale chains flushed, unused affinity sets deleted.
 */
import type { ChainName } from '../../net/index.js'
import { renderChain, renderElement, renderMap, renderRuleBody, renderSet } from './render.js'
import { elementKeyString } from './ruleset-builder.js'
import type { StaleChainsStep } from './stale-chains.js'
import type { NftElementVerdict, NftMapElement, NftRuleset, NftSetElement } from './types.js'

export interface NftSyncStep {
  /** What the node holds before the sync. */
  readonly before: NftRuleset
  /** What it holds after (flushed stale chains included). */
  readonly after: NftRuleset
  readonly full: boolean
  /** Per-service chains a partial sync rewrites (those of the changed Services). */
  readonly rewrite: ReadonlySet<ChainName>
  readonly stale: StaleChainsStep
}

function valueText(v: NftElementVerdict | undefined): string {
  return v === undefined ? '' : v.kind === 'goto' ? `goto ${v.chain}` : 'drop'
}

/** Element changes of one set or map: deletes first (a changed value is deleted and re-added, as upstream). */
function elementDiff(name: string, prefix: string, before: readonly (NftSetElement | NftMapElement)[], after: readonly (NftSetElement | NftMapElement)[]): string {
  const had = new Map(before.map((e) => [elementKeyString(e.key), valueText('value' in e ? e.value : undefined)]))
  const keep = new Set<string>()
  let dels = ''
  let adds = ''
  for (const e of after) {
    const k = elementKeyString(e.key)
    const v = valueText('value' in e ? e.value : undefined)
    keep.add(k)
    if (had.get(k) === v) continue
    if (had.has(k)) dels += `delete element ${prefix} ${name} { ${k} }\n`
    adds += renderElement(name, prefix, e)
  }
  for (const k of had.keys()) if (!keep.has(k)) dels += `delete element ${prefix} ${name} { ${k} }\n`
  return dels + adds
}

export function renderNftSyncTransaction(step: NftSyncStep): string {
  const { before, after, full, rewrite, stale } = step
  const prefix = `${after.family} ${after.table.name}`
  const heldChains = new Set(before.chains.map((c) => c.name))
  const heldSets = new Map(before.sets.map((s) => [s.name, s]))
  const heldMaps = new Map(before.maps.map((m) => [m.name, m]))
  let out = stale.deleted.map((c) => `delete chain ${prefix} ${c}\n`).join('')
  if (full) out += `add table ${prefix}${after.table.comment !== undefined ? ` { comment ${JSON.stringify(after.table.comment)} ; }` : ''}\n`
  for (const s of after.sets) if (full || !heldSets.has(s.name)) out += renderSet(s, prefix)
  for (const m of after.maps) if (full || !heldMaps.has(m.name)) out += renderMap(m, prefix)
  const written = after.chains.filter((c) => !c.stale && (full || rewrite.has(c.name) || !heldChains.has(c.name)))
  for (const c of written) out += renderChain(c, prefix) + (heldChains.has(c.name) ? `flush chain ${prefix} ${c.name}\n` : '')
  for (const c of written) for (const r of c.rules) out += `add rule ${prefix} ${c.name} ${renderRuleBody(r, after.family)}\n`
  for (const s of after.sets) out += elementDiff(s.name, prefix, heldSets.get(s.name)?.elements ?? [], s.elements)
  for (const m of after.maps) out += elementDiff(m.name, prefix, heldMaps.get(m.name)?.elements ?? [], m.elements)
  for (const c of stale.flushed) out += `flush chain ${prefix} ${c}\n`
  const wanted = new Set([...after.sets.map((s) => s.name), ...after.maps.map((m) => m.name)])
  for (const s of before.sets) if (!wanted.has(s.name)) out += `delete set ${prefix} ${s.name}\n`
  for (const m of before.maps) if (!wanted.has(m.name)) out += `delete map ${prefix} ${m.name}\n`
  return out
}
