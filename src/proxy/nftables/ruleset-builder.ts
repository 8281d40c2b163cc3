/**
 * A local accumulator for one build: chains in creation order with their rules, sets and maps
 * with their elements (de-duplicated by key, first wins, as upstream's element storage keeps one
 * value per key). Never shared between builds; `finish` returns the immutable ruleset.
 */
import { InternalError } from '../../errors.js'
import type { ChainName } from '../../net/index.js'
import type {
  NftBaseChainSpec,
  NftChain,
  NftElementKeyPart,
  NftFamily,
  NftMap,
  NftMapElement,
  NftRule,
  NftRuleset,
  NftSet,
  NftSetElement,
  NftTable,
} from './types.js'
import type { NftObject, NftOriginOf, NftProvenance } from './nft-origin.js'

interface ChainDraft {
  readonly name: ChainName
  readonly base?: NftBaseChainSpec
  readonly comment?: string
  readonly rules: NftRule[]
}

export function elementKeyString(key: readonly NftElementKeyPart[]): string {
  return key.map((p) => (p.kind === 'address' ? p.address : p.kind === 'proto' ? p.proto : String(p.port))).join(' . ')
}

export class NftRulesetBuilder {
  readonly #provenance: NftProvenance | undefined
  readonly #chains = new Map<ChainName, ChainDraft>()
  readonly #sets = new Map<string, { spec: Omit<NftSet, 'elements'>; elements: Map<string, NftSetElement> }>()
  readonly #maps = new Map<string, { spec: Omit<NftMap, 'elements'>; elements: Map<string, NftMapElement> }>()

  constructor(provenance?: NftProvenance) {
    this.#provenance = provenance
  }

  #record(o: NftObject, origin: NftOriginOf | undefined): void {
    if (this.#provenance && origin) this.#provenance.set(o, origin())
  }

  /** Creates the chain if it does not exist yet (upstream ensureChain). */
  chain(name: ChainName, opts: { base?: NftBaseChainSpec; comment?: string } = {}): void {
    if (this.#chains.has(name)) return
    this.#chains.set(name, { name, ...opts, rules: [] })
  }

  rule(chain: ChainName, rule: NftRule, origin?: NftOriginOf): void {
    const c = this.#chains.get(chain)
    if (!c) throw new InternalError(`nftables rule for undeclared chain ${chain}`)
    c.rules.push(rule)
    this.#record(rule, origin)
  }

  set(spec: Omit<NftSet, 'elements'>): void {
    if (!this.#sets.has(spec.name)) this.#sets.set(spec.name, { spec, elements: new Map() })
  }

  map(spec: Omit<NftMap, 'elements'>): void {
    if (!this.#maps.has(spec.name)) this.#maps.set(spec.name, { spec, elements: new Map() })
  }

  setElement(set: string, element: NftSetElement, origin?: NftOriginOf): void {
    const s = this.#sets.get(set)
    if (!s) throw new InternalError(`nftables element for undeclared set ${set}`)
    const k = elementKeyString(element.key)
    if (s.elements.has(k)) return
    s.elements.set(k, element)
    this.#record(element, origin)
  }

  mapElement(map: string, element: NftMapElement, origin?: NftOriginOf): void {
    const m = this.#maps.get(map)
    if (!m) throw new InternalError(`nftables element for undeclared map ${map}`)
    const k = elementKeyString(element.key)
    if (m.elements.has(k)) return
    m.elements.set(k, element)
    this.#record(element, origin)
  }

  finish(family: NftFamily, table: NftTable): NftRuleset {
    const chains: NftChain[] = [...this.#chains.values()].map((c) => ({ ...c, rules: [...c.rules] }))
    const sets: NftSet[] = [...this.#sets.values()].map((s) => ({ ...s.spec, elements: [...s.elements.values()] }))
    const maps: NftMap[] = [...this.#maps.values()].map((m) => ({ ...m.spec, elements: [...m.elements.values()] }))
    return { family, table, chains, sets, maps }
  }
}
