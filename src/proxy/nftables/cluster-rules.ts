/**
 * Every node's nftables rules from one cluster model, with the node-independent work shared as
 * iptables/cluster-rules.ts shares it: per class of nodes (model/node-locality.ts) each service
 * port is planned, built and rendered once; a node writes its own setup (its NodePort IPs) and
 * rebuilds only its locality-dependent ports, and its transaction is the class's per-port text
 * sliced around them. For each node the text equals renderNftablesTransaction(buildNftablesRules(
 * that node's input)) (test/property/cluster-rules.property.test.ts). Pure.
 */
import {
  ClassPortCache,
  NodeClasses,
  portColumn,
  spliceColumn,
  type EndpointInfo,
  type PortColumn,
  type ProxierConfig,
  type ProxyState,
  type ServicePortInfo,
} from '../model/index.js'
import { buildNftablesRules } from './build.js'
import { kubeProxyTable } from './names.js'
import { planNftServicePort } from './plan.js'
import { renderChain, renderElement, renderMap, renderNftablesTransaction, renderRuleLine, renderSet } from './render.js'
import { elementKeyString, NftRulesetBuilder } from './ruleset-builder.js'
import { writeCaptureElements } from './service-capture.js'
import { declareServiceChains, writeServiceChains } from './service-chains.js'
import { writeSetup } from './setup.js'
import type { NftChain, NftMap, NftMapElement, NftRuleset, NftSet, NftSetElement } from './types.js'

/** One node's nftables rules as ClusterNftablesRules gives them. */
export interface SharedNodeNftRules {
  readonly nodeName: string
  /** The `nft -f` text of a full sync on a fresh node; equal to renderNftablesTransaction(ruleset()). */
  readonly text: string
  /** The node's ruleset, assembled on each call; chains common to the class are shared objects. */
  ruleset(): NftRuleset
}

type Element = NftSetElement | NftMapElement

/** One service port's part of a build, with its text per section of the transaction. */
interface PortPart {
  readonly chains: readonly NftChain[]
  /** Sets the port declares (session affinity); they hold no elements. */
  readonly sets: readonly NftSet[]
  /** Its elements in the setup's sets and maps, by container name. */
  readonly elements: ReadonlyMap<string, readonly Element[]>
  readonly chainText: string
  /** Each of its chains' rule section (a blank line, then its rules), empty chains skipped. */
  readonly ruleText: string
  readonly setText: string
  readonly elementText: ReadonlyMap<string, string>
  /** False when it wrote into a setup chain or declared a map: then its node is built alone. */
  readonly separable: boolean
}

/** What every node of one class shares; each column is one section's text from every port. */
interface NftClass {
  readonly setup: NftRuleset
  readonly parts: readonly PortPart[]
  readonly chains: PortColumn
  readonly rules: PortColumn
  readonly sets: PortColumn
  readonly elements: ReadonlyMap<string, PortColumn>
  /** `container \u0000 key` -> the first port that writes it (the builder keeps the first). */
  readonly owners: ReadonlyMap<string, number>
  /** Keys more than one port writes (a Service's ports all write its ClusterIP to cluster-ips). */
  readonly shared: ReadonlySet<string>
  /** Per port that writes a shared key: its elements before the later ports' copies were dropped. */
  readonly rawElements: ReadonlyMap<number, ReadonlyMap<string, Element>>
  /** False when a port cannot be separated from the setup: then every node is built alone. */
  readonly exact: boolean
}

export class ClusterNftablesRules {
  readonly #classes: NodeClasses<PortPart, NftClass>

  /** With the previous model's ClusterNftablesRules, unchanged ports keep their built parts. */
  constructor(state: ProxyState, previous?: ClusterNftablesRules) {
    this.#classes = new NodeClasses(state, previous === undefined ? undefined : previous.#classes, (classConfig) => this.#buildClass(classConfig))
  }

  forNode(config: ProxierConfig): SharedNodeNftRules {
    const cls = this.#classes.classFor(config)
    const setup = setupRuleset(config)
    if (!cls.exact || !sameContainers(setup, cls.setup)) return this.#alone(config)
    const locality = this.#classes.locality
    const deviating = locality.deviatingPorts(config, { anyRange: true })
    const variants = new Map<number, PortPart>()
    // Keys the node's setup writes: a port element with one of them would be dropped unshared.
    const written = new Set<string>()
    for (const c of [...setup.sets, ...setup.maps]) for (const e of c.elements) written.add(elementId(c.name, e))
    for (const key of written) if (cls.owners.has(key)) return this.#alone(config)
    for (const i of deviating) {
      const raw = buildPortPart(locality.ports[i]!, locality.nodeEndpoints(i, config.nodeName), config, setup)
      if (!raw.separable) return this.#alone(config)
      const mine = elementsById(raw)
      const before = cls.rawElements.get(i) ?? elementsById(cls.parts[i]!)
      // An element key another port writes too: which copy the builder keeps depends on port
      // order, so the variant must write it exactly as the class did; otherwise build alone.
      for (const key of new Set([...mine.keys(), ...before.keys()])) {
        const owner = cls.owners.get(key)
        const withOthers = cls.shared.has(key) || (owner !== undefined && owner !== i) || written.has(key)
        if (withOthers && !sameElement(mine.get(key), before.get(key))) return this.#alone(config)
      }
      for (const key of mine.keys()) if (!cls.owners.has(key)) written.add(key)
      variants.set(i, withoutLaterCopies(raw, i, cls.owners, setup))
    }
    const ports = locality.ports.length
    const splice = (column: PortColumn | undefined, pick: (p: PortPart) => string): string =>
      spliceColumn(column, ports, deviating, (i) => pick(variants.get(i)!))
    const prefix = `${setup.family} ${setup.table.name}`
    let text = renderNftablesTransaction({ ...setup, chains: [], sets: [], maps: [] })
    const section = (lines: string): void => {
      if (lines !== '') text += `\n${lines}`
    }
    section(setup.sets.map((s) => renderSet(s, prefix)).join('') + splice(cls.sets, (p) => p.setText))
    section(setup.maps.map((m) => renderMap(m, prefix)).join(''))
    section(setup.chains.map((c) => renderChain(c, prefix)).join('') + splice(cls.chains, (p) => p.chainText))
    for (const c of setup.chains) section(c.rules.map((r) => renderRuleLine(prefix, c.name, r, setup.family)).join(''))
    text += splice(cls.rules, (p) => p.ruleText)
    for (const container of [...setup.sets, ...setup.maps]) {
      const own = (container.elements as readonly Element[]).map((e) => renderElement(container.name, prefix, e)).join('')
      section(own + splice(cls.elements.get(container.name), (p) => p.elementText.get(container.name) ?? ''))
    }
    const partOf = (i: number): PortPart => variants.get(i) ?? cls.parts[i]!
    return { nodeName: config.nodeName, text, ruleset: () => assembleRuleset(setup, ports, partOf) }
  }

  #buildClass(config: ProxierConfig): NftClass {
    const setup = setupRuleset(config)
    const locality = this.#classes.locality
    // A part is the same under every setup that declares the containers it writes (sameContainers).
    const keys = ClassPortCache.keys(config)
    const raw = locality.ports.map((sp, i) => this.#classes.parts.get(locality, i, keys, '', () => buildPortPart(sp, locality.endpoints[i]!, config, setup)))
    const owners = new Map<string, number>()
    const shared = new Set<string>()
    raw.forEach((p, i) => {
      for (const key of elementsById(p).keys()) {
        if (owners.has(key)) shared.add(key)
        else owners.set(key, i)
      }
    })
    // As the builder does: the first port's element of a key is kept, later copies dropped.
    const rawElements = new Map<number, ReadonlyMap<string, Element>>()
    const parts = raw.map((p, i) => {
      const ids = elementsById(p)
      if (![...ids.keys()].some((key) => shared.has(key))) return p
      rawElements.set(i, ids)
      return withoutLaterCopies(p, i, owners, setup)
    })
    const exact = parts.every((p) => p.separable)
    const elements = new Map<string, PortColumn>()
    for (const c of [...setup.sets, ...setup.maps]) elements.set(c.name, column(parts, (p) => p.elementText.get(c.name) ?? ''))
    return {
      setup,
      parts,
      chains: column(parts, (p) => p.chainText),
      rules: column(parts, (p) => p.ruleText),
      sets: column(parts, (p) => p.setText),
      elements,
      owners,
      shared,
      rawElements,
      exact,
    }
  }

  #alone(config: ProxierConfig): SharedNodeNftRules {
    const ruleset = buildNftablesRules({ state: this.#classes.locality.nodeState(config.nodeName), config })
    return { nodeName: config.nodeName, text: renderNftablesTransaction(ruleset), ruleset: () => ruleset }
  }
}


/** The node-wide part of a build: tables, base and helper chains, sets and maps, NodePort IPs. */
function setupRuleset(config: ProxierConfig): NftRuleset {
  const out = new NftRulesetBuilder()
  writeSetup(out, config, config.serviceCIDRs)
  return out.finish(config.ipFamily === 'IPv4' ? 'ip' : 'ip6', { name: kubeProxyTable, comment: 'rules for kube-proxy' })
}

/** Whether two setups declare the same chains, sets and maps in the same order. */
function sameContainers(a: NftRuleset, b: NftRuleset): boolean {
  const names = (rs: NftRuleset): string => [...rs.chains, ...rs.sets, ...rs.maps].map((c) => c.name).join(' ')
  return names(a) === names(b)
}

/** One port built as buildNftablesRules builds it, after the setup, then cut from the setup. */
function buildPortPart(sp: ServicePortInfo, endpoints: readonly EndpointInfo[], config: ProxierConfig, setup: NftRuleset): PortPart {
  const out = new NftRulesetBuilder()
  for (const c of setup.chains) out.chain(c.name)
  for (const { elements: _e, ...spec } of setup.sets) out.set(spec)
  for (const { elements: _e, ...spec } of setup.maps) out.map(spec)
  const plan = planNftServicePort(sp, endpoints, config)
  declareServiceChains(out, plan)
  writeCaptureElements(out, plan)
  writeServiceChains(out, plan, config)
  const rs = out.finish(setup.family, setup.table)
  const prefix = `${setup.family} ${setup.table.name}`
  const chains = rs.chains.slice(setup.chains.length)
  const sets = rs.sets.slice(setup.sets.length)
  const elements = new Map<string, readonly Element[]>()
  const elementText = new Map<string, string>()
  for (const c of [...rs.sets.slice(0, setup.sets.length), ...rs.maps]) {
    const list = c.elements as readonly Element[]
    if (list.length === 0) continue
    elements.set(c.name, list)
    elementText.set(c.name, list.map((e) => renderElement(c.name, prefix, e)).join(''))
  }
  let ruleText = ''
  for (const c of chains) if (c.rules.length > 0) ruleText += `\n${c.rules.map((r) => renderRuleLine(prefix, c.name, r, setup.family)).join('')}`
  return {
    chains,
    sets,
    elements,
    chainText: chains.map((c) => renderChain(c, prefix)).join(''),
    ruleText,
    setText: sets.map((s) => renderSet(s, prefix)).join(''),
    elementText,
    separable: rs.maps.length === setup.maps.length && rs.chains.slice(0, setup.chains.length).every((c) => c.rules.length === 0) && sets.every((s) => s.elements.length === 0),
  }
}

function elementId(container: string, e: Element): string {
  return `${container}\u0000${elementKeyString(e.key)}`
}

/** A part's elements by container and key. */
function elementsById(p: PortPart): Map<string, Element> {
  const out = new Map<string, Element>()
  for (const [container, elements] of p.elements) for (const e of elements) out.set(elementId(container, e), e)
  return out
}

function sameElement(a: Element | undefined, b: Element | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b))
}

/** The part without the elements whose key an earlier port writes first. */
function withoutLaterCopies(p: PortPart, port: number, owners: ReadonlyMap<string, number>, setup: NftRuleset): PortPart {
  const prefix = `${setup.family} ${setup.table.name}`
  const elements = new Map<string, readonly Element[]>()
  const elementText = new Map<string, string>()
  for (const [container, list] of p.elements) {
    const kept = list.filter((e) => (owners.get(elementId(container, e)) ?? port) === port)
    if (kept.length === 0) continue
    elements.set(container, kept)
    elementText.set(container, kept.length === list.length ? p.elementText.get(container)! : kept.map((e) => renderElement(container, prefix, e)).join(''))
  }
  return { ...p, elements, elementText }
}

function column(parts: readonly PortPart[], pick: (p: PortPart) => string): PortColumn {
  return portColumn(parts.length, (i) => pick(parts[i]!))
}

function assembleRuleset(setup: NftRuleset, ports: number, partOf: (i: number) => PortPart): NftRuleset {
  const chains: NftChain[] = [...setup.chains]
  const portSets: NftSet[] = []
  for (let i = 0; i < ports; i++) {
    const p = partOf(i)
    for (const c of p.chains) chains.push(c)
    for (const s of p.sets) portSets.push(s)
  }
  const withPortElements = <C extends NftSet | NftMap>(c: C): C => {
    const elements: Element[] = [...c.elements]
    for (let i = 0; i < ports; i++) for (const e of partOf(i).elements.get(c.name) ?? []) elements.push(e)
    return { ...c, elements }
  }
  return {
    family: setup.family,
    table: setup.table,
    chains,
    sets: [...setup.sets.map(withPortElements), ...portSets],
    maps: setup.maps.map(withPortElements),
  }
}
