/**
 * Every node's iptables rules from one cluster model, with the node-independent work shared.
 * Nodes whose settled config and zone agree form a class; each service port is planned, built
 * and rendered once per class, and a node rebuilds only the ports whose rules depend on it
 * (local endpoints under a Local policy, node hints, a source range holding its IP). A node's
 * text is slices of its class's flat text, so 1,000 nodes share one copy of the common rules.
 * For each node the text equals renderIptablesRestore(buildIptablesRules(that node's input))
 * (test/property/cluster-rules.property.test.ts). Pure: no clock, no randomness, no I/O.
 *
 * API (also for kpe up's many nodes): `new ClusterIptablesRules(state)` once per cluster model
 * (any node's ProxyState; isLocal is derived per node), then `forNode(config)` per node (or
 * ClusterRulesSync in proxier/, fed by watch events). A changed model gets a new ClusterIptablesRules
 * with the old one as `previous`: a port whose ServicePortInfo and endpoint list are the same
 * objects (IncrementalProxyState keeps unchanged ones so) keeps its built rules.
 */
import type { ChainName } from '../../net/index.js'
import {
  ClassPortCache,
  NodeClasses,
  portColumn,
  spliceColumn,
  type EndpointInfo,
  type PortColumn,
  type ProxierConfig,
  type ProxyState,
} from '../model/index.js'
import { renderIptablesRestore, type Chain, type Rule, type RuleTable, type Table, type TableName } from '../netfilter/index.js'
import { buildIptablesRules } from './build.js'
import { compareChainNames } from './chains.js'
import { writeFixedChains, writeNodePortsTail } from './fixed-chains.js'
import { chainDeclaration, flattenChains, mergeChains, noFlatChains, type FlatChains, type MergeStep } from './flat-chains.js'
import { planServicePort } from './plan.js'
import { RuleTableBuilder, type ChainPart } from './rule-table-builder.js'
import { buildServicePortRules, type ServicePortRules } from './service-port-rules.js'

/** One node's rules as ClusterIptablesRules gives them. */
export interface SharedNodeRules {
  readonly nodeName: string
  /** iptables-restore input; equal to renderIptablesRestore(table()). */
  readonly text: string
  /** The node's RuleTable, assembled on each call; rules common to the class are shared objects. */
  table(): RuleTable
}

/** A chain of the node's shared tables (KUBE-SERVICES & co.) or one of its own service chains. */
interface NodeChain {
  readonly chain: ChainName
  readonly text: string
  rules(): readonly Rule[]
}

type TablePick = (r: ServicePortRules) => readonly ChainPart[]
const filterCapture: TablePick = (r) => r.filterCapture
const natCapture: TablePick = (r) => r.natCapture

/** What every node of one class shares. */
interface NodeClass {
  readonly largeClusterMode: boolean
  /** Per service port: its rules for a node with no local endpoint, in no node hint, outside every source range. */
  readonly rules: readonly ServicePortRules[]
  readonly fixed: { readonly filter: readonly ChainPart[]; readonly nat: readonly ChainPart[] }
  /** Per shared chain, its capture rules from every service port. */
  readonly capture: { readonly filter: ReadonlyMap<ChainName, PortColumn>; readonly nat: ReadonlyMap<ChainName, PortColumn> }
  /** Every port's own nat chains in chain order; undefined when two ports name the same chain (then nothing is shared). */
  readonly own: FlatChains | undefined
  /** Per service port: the indices of its own chains in `own`. */
  readonly ownIndices: readonly (readonly number[])[]
}

export class ClusterIptablesRules {
  readonly #classes: NodeClasses<ServicePortRules, NodeClass>

  constructor(state: ProxyState, previous?: ClusterIptablesRules) {
    this.#classes = new NodeClasses(state, previous === undefined ? undefined : previous.#classes, (classConfig) => this.#buildClass(classConfig))
  }

  /** The rules of the node this config settles, sharing its class's work. */
  forNode(config: ProxierConfig): SharedNodeRules {
    const cls = this.#classes.classFor(config)
    if (cls.own === undefined) return this.#alone(config)
    const own = cls.own
    const locality = this.#classes.locality
    const deviating = locality.deviatingPorts(config)
    const variants = new Map<number, ServicePortRules>()
    for (const i of deviating) variants.set(i, this.#buildPort(i, locality.nodeEndpoints(i, config.nodeName), config, cls.largeClusterMode))
    const tail = new RuleTableBuilder(config.ipFamily, undefined, 'text')
    writeNodePortsTail(tail, config)
    const ctx = { cls, deviating, variants, ports: locality.ports.length }
    const filterChains = sharedChains(ctx, 'filter', tail.filter.parts())
    const natChains = sharedChains(ctx, 'nat', tail.nat.parts())
    // The deviating ports' own chains replace the class's ones.
    const removed: number[] = []
    for (const i of deviating) {
      removed.push(...cls.ownIndices[i]!)
      for (const part of variants.get(i)!.chains!) natChains.push(partChain(part))
    }
    removed.sort((a, b) => a - b)
    for (const list of [filterChains, natChains]) list.sort((a, b) => compareChainNames(a.chain, b.chain))
    const filterSteps = mergeChains(noFlatChains, [], filterChains)
    const natSteps = mergeChains(own, removed, natChains)
    const text = tableText('filter', filterSteps, noFlatChains) + tableText('nat', natSteps, own)
    return {
      nodeName: config.nodeName,
      text,
      table: () => ({ family: config.ipFamily, tables: [stepsTable('filter', filterSteps, noFlatChains), stepsTable('nat', natSteps, own)] }),
    }
  }

  #buildPort(i: number, endpoints: readonly EndpointInfo[], config: ProxierConfig, largeClusterMode: boolean): ServicePortRules {
    const plan = planServicePort(this.#classes.locality.ports[i]!, endpoints, config)
    return buildServicePortRules(plan, config, { largeClusterMode, ownChains: true, render: 'text' })
  }

  #buildClass(config: ProxierConfig): NodeClass {
    const locality = this.#classes.locality
    const largeClusterMode = locality.endpointCount > config.largeClusterEndpointsThreshold
    const keys = ClassPortCache.keys(config)
    const rules = locality.ports.map((_, i) =>
      this.#classes.parts.get(locality, i, keys, String(largeClusterMode), () => this.#buildPort(i, locality.endpoints[i]!, config, largeClusterMode)))
    const fixed = new RuleTableBuilder(config.ipFamily, undefined, 'text')
    writeFixedChains(fixed, config)
    const ownParts: { part: ChainPart; port: number }[] = []
    rules.forEach((r, port) => { for (const part of r.chains!) ownParts.push({ part, port }) })
    // Own chains all start with KUBE-, where compareChainNames is plain byte order.
    ownParts.sort((a, b) => (a.part.chain < b.part.chain ? -1 : a.part.chain > b.part.chain ? 1 : 0))
    const unique = ownParts.every((p, i) => i === 0 || p.part.chain !== ownParts[i - 1]!.part.chain)
    const ownIndices: number[][] = locality.ports.map(() => [])
    ownParts.forEach((p, index) => ownIndices[p.port]!.push(index))
    return {
      largeClusterMode,
      rules,
      fixed: { filter: fixed.filter.parts(), nat: fixed.nat.parts() },
      capture: { filter: captureColumns(rules, filterCapture), nat: captureColumns(rules, natCapture) },
      own: unique ? flattenChains(ownParts.map((p) => p.part)) : undefined,
      ownIndices,
    }
  }

  /** The unshared build, for a class whose ports name one chain twice (a hash collision). */
  #alone(config: ProxierConfig): SharedNodeRules {
    const table = buildIptablesRules({ state: this.#classes.locality.nodeState(config.nodeName), config })
    return { nodeName: config.nodeName, text: renderIptablesRestore(table), table: () => table }
  }
}


/** Per chain the ports write capture rules to, those rules from every port. */
function captureColumns(rules: readonly ServicePortRules[], pick: TablePick): Map<ChainName, PortColumn> {
  const out = new Map<ChainName, PortColumn>()
  for (const r of rules) {
    for (const { chain } of pick(r)) {
      if (out.has(chain)) continue
      out.set(chain, portColumn(rules.length, (i) => partsText(pick(rules[i]!), chain)))
    }
  }
  return out
}

function partsText(parts: readonly ChainPart[], chain: ChainName): string {
  let text = ''
  for (const part of parts) if (part.chain === chain) text += part.text
  return text
}

interface NodeContext {
  readonly cls: NodeClass
  /** Ascending. */
  readonly deviating: readonly number[]
  readonly variants: ReadonlyMap<number, ServicePortRules>
  readonly ports: number
}

/**
 * The node's fixed chains with their capture rules (KUBE-SERVICES, KUBE-NODEPORTS, the filter
 * chains): the fixed rules, then every port's capture lines in port order, then the tail.
 */
function sharedChains(ctx: NodeContext, table: TableName, tail: readonly ChainPart[]): NodeChain[] {
  const pick = table === 'filter' ? filterCapture : natCapture
  const fixed = ctx.cls.fixed[table as 'filter' | 'nat']
  const columns = ctx.cls.capture[table as 'filter' | 'nat']
  const declared = new Set<ChainName>([...fixed, ...tail].map((p) => p.chain))
  const names = new Set<ChainName>([...declared, ...columns.keys()])
  for (const i of ctx.deviating) for (const part of pick(ctx.variants.get(i)!)) names.add(part.chain)
  const out: NodeChain[] = []
  for (const chain of names) {
    const head = fixed.find((p) => p.chain === chain)
    const end = tail.find((p) => p.chain === chain)
    const capture = captureText(ctx, columns.get(chain), chain, pick)
    // A chain only ports write to exists when some port writes to it on this node.
    if (!declared.has(chain) && capture === '') continue
    out.push({
      chain,
      text: (head?.text ?? '') + capture + (end?.text ?? ''),
      rules: () => {
        const rules: Rule[] = [...(head?.rules ?? [])]
        for (let i = 0; i < ctx.ports; i++) {
          const part = pick(ctx.variants.get(i) ?? ctx.cls.rules[i]!).find((p) => p.chain === chain)
          if (part) for (const r of part.rules) rules.push(r)
        }
        if (end) for (const r of end.rules) rules.push(r)
        return rules
      },
    })
  }
  return out
}

/** The class's capture lines of one chain with the deviating ports' own lines spliced in. */
function captureText(ctx: NodeContext, column: PortColumn | undefined, chain: ChainName, pick: TablePick): string {
  return spliceColumn(column, ctx.ports, ctx.deviating, (i) => pick(ctx.variants.get(i)!).find((p) => p.chain === chain)?.text ?? '')
}

function partChain(part: ChainPart): NodeChain {
  return { chain: part.chain, text: part.text, rules: () => part.rules }
}

function tableText(name: TableName, steps: readonly MergeStep<NodeChain>[], flatChains: FlatChains): string {
  let header = `*${name}\n`
  let lines = ''
  for (const s of steps) {
    if ('own' in s) {
      header += chainDeclaration(s.own.chain)
      lines += s.own.text
    } else {
      header += flatChains.header.slice(flatChains.headerOffsets[s.from], flatChains.headerOffsets[s.to])
      lines += flatChains.lines.slice(flatChains.lineOffsets[s.from], flatChains.lineOffsets[s.to])
    }
  }
  return `${header}${lines}COMMIT\n`
}

function stepsTable(name: TableName, steps: readonly MergeStep<NodeChain>[], flatChains: FlatChains): Table {
  const chains: Chain[] = []
  for (const s of steps) {
    if ('own' in s) chains.push({ name: s.own.chain, rules: s.own.rules() })
    else for (let i = s.from; i < s.to; i++) chains.push(flatChains.chains[i]!)
  }
  return { name, chains, deletedChains: [] }
}
