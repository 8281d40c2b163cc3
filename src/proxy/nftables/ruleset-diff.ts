/**
 * What a change did to a node's nftables table, grouped by Service port: each chain's rules
 * diffed in order, set and map elements added or removed, chains created or deleted. Attribution
 * comes from typed provenance (nft-origin.ts); iptables mode's line diff and grouping are reused.
 */
import { byService, diffLines, originServicePort, type RuleChange, type ServiceRuleDiff } from '../iptables/index.js'
import { renderChain, renderElement, renderRuleBody } from './render.js'
import type { NftObject, NftProvenance } from './nft-origin.js'
import type { NftChain, NftMapElement, NftRuleset, NftSetElement } from './types.js'

const nodeWide = '(node-wide)'

export interface NftDiffSide {
  readonly ruleset: NftRuleset
  readonly provenance: NftProvenance
}

function serviceOf(p: NftProvenance, o: NftObject): string | undefined {
  const origin = p.get(o)
  return origin === undefined ? undefined : originServicePort(origin)
}

/** A per-service chain belongs wholly to the Service port of its rules. */
function chainOwner(c: NftChain | undefined, p: NftProvenance): string | undefined {
  for (const r of c?.rules ?? []) {
    const s = serviceOf(p, r)
    if (s) return s
  }
  return undefined
}

export function diffNftRulesets(before: NftDiffSide, after: NftDiffSide): ServiceRuleDiff[] {
  const groups = new Map<string, RuleChange[]>()
  const table = after.ruleset.family
  const prefix = `${table} ${after.ruleset.table.name}`
  const add = (service: string | undefined, sign: '-' | '+', chain: string, text: string): void => {
    const key = service ?? nodeWide
    groups.set(key, [...(groups.get(key) ?? []), { sign, table, chain, text }])
  }
  const a = new Map(before.ruleset.chains.map((c) => [c.name as string, c]))
  const b = new Map(after.ruleset.chains.map((c) => [c.name as string, c]))
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const ca = a.get(name)
    const cb = b.get(name)
    const owner = chainOwner(cb, after.provenance) ?? chainOwner(ca, before.provenance)
    if (!ca && cb) add(owner, '+', name, renderChain(cb, prefix).trimEnd())
    const text = (c: NftChain | undefined): string[] => (c?.rules ?? []).map((r) => `add rule ${prefix} ${name} ${renderRuleBody(r, after.ruleset.family)}`)
    let ia = 0
    let ib = 0
    for (const l of diffLines(text(ca), text(cb))) {
      const rule = l.sign === '+' ? cb!.rules[ib] : ca!.rules[ia]
      if (l.sign !== '+') ia++
      if (l.sign !== '-') ib++
      if (l.sign === ' ') continue
      add(owner ?? serviceOf(l.sign === '+' ? after.provenance : before.provenance, rule!), l.sign, name, l.text)
    }
    if (ca && !cb) add(owner, '-', name, `delete chain ${prefix} ${name}`)
  }
  const containers = (rs: NftRuleset): Map<string, readonly (NftSetElement | NftMapElement)[]> => new Map([...rs.sets, ...rs.maps].map((c) => [c.name, c.elements]))
  const ea = containers(before.ruleset)
  const eb = containers(after.ruleset)
  for (const name of new Set([...ea.keys(), ...eb.keys()])) {
    const line = (e: NftSetElement | NftMapElement): string => renderElement(name, prefix, e).trimEnd()
    const was = new Map((ea.get(name) ?? []).map((e) => [line(e), e]))
    const now = new Map((eb.get(name) ?? []).map((e) => [line(e), e]))
    for (const [l, e] of was) if (!now.has(l)) add(serviceOf(before.provenance, e), '-', name, l)
    for (const [l, e] of now) if (!was.has(l)) add(serviceOf(after.provenance, e), '+', name, l)
  }
  return byService(groups)
}

