/**
 * A long-lived iptables builder owned by one proxier. It keeps each service port's rules (the
 * values and their restore lines) between syncs and rebuilds only service ports whose
 * ServicePortInfo or endpoint list is a different object than last time (IncrementalProxyState
 * keeps unchanged ones identical). A partial sync then costs the change plus a join of the kept
 * lines for KUBE-SERVICES and the other shared chains. For the same input its result equals
 * buildIptablesRules and renderIptablesRestore of that table
 * (test/property/incremental-sync.property.test.ts). No clock, no randomness, no I/O.
 */
import type { ChainName } from '../../net/index.js'
import { servicePortKey, type EndpointInfo, type ProxierConfig, type ProxyState, type ServicePortInfo } from '../model/index.js'
import type { RuleTable } from '../netfilter/index.js'
import { noEndpoints, serviceName, type SyncMode } from './build.js'
import { isServiceChain } from './chains.js'
import { writeFixedChains, writeNodePortsTail } from './fixed-chains.js'
import { planServicePort } from './plan.js'
import { RuleTableBuilder } from './rule-table-builder.js'
import { TableBuilder } from './rule-table-builder.js'
import { appendCaptureRules, appendOwnChains, buildServicePortRules, type CaptureRules, type ServicePortRules } from './service-port-rules.js'

/** The chains a node's nat table holds: a Set of names, or the proxier's name -> rule count map. */
export interface ExistingChains {
  readonly size: number
  has(chain: string): boolean
  keys(): IterableIterator<string>
}

export interface IncrementalBuildInput {
  readonly state: ProxyState
  readonly sync: SyncMode
  /**
   * nat chains on the node now. A partial sync looks only at the chains its changes stopped
   * using, which is complete when this is the state after this builder's previous output was
   * applied; after a failed apply, run a full sync (as upstream does).
   */
  readonly existingNatChains: ExistingChains
  /** As in buildIptablesRules: false skips looking for stale chains. */
  readonly deleteStaleChains?: boolean
}

export interface IncrementalBuildResult {
  readonly table: RuleTable
  /** Equal to renderIptablesRestore(table). */
  readonly text: string
}

interface KeptServicePort {
  readonly key: string
  readonly endpoints: readonly EndpointInfo[]
  readonly largeClusterMode: boolean
  /** With own chains, rendered. */
  readonly rules: ServicePortRules
  /** Whether a run of service ports whose capture rules are joined once and kept ends here. */
  readonly endsRun: boolean
  /** The last build that used it; older ones are dropped after a build. */
  generation: number
}

/** Consecutive service ports' capture rules joined per shared chain, kept while the same ports form the run. */
interface KeptRun extends CaptureRules {
  readonly members: readonly KeptServicePort[]
}

export class IncrementalIptablesBuilder {
  readonly #config: ProxierConfig
  readonly #kept = new Map<ServicePortInfo, KeptServicePort>()
  /** Runs by their first member. */
  #runs = new Map<KeptServicePort, KeptRun>()
  #generation = 0

  constructor(config: ProxierConfig) {
    this.#config = config
  }

  build(input: IncrementalBuildInput): IncrementalBuildResult {
    const config = this.#config
    const { state, sync } = input
    const generation = ++this.#generation
    const firstBuild = generation === 1

    // Endpoints per service port, looked up once: the total decides largeClusterMode first.
    const ports = state.servicePorts
    const kept: (KeptServicePort | undefined)[] = new Array(ports.length)
    const endpoints: (readonly EndpointInfo[])[] = new Array(ports.length)
    let endpointCount = 0
    for (let i = 0; i < ports.length; i++) {
      const sp = ports[i]!
      const k = this.#kept.get(sp)
      const eps = state.endpoints.get(k?.key ?? servicePortKey(sp.name)) ?? noEndpoints
      kept[i] = k
      endpoints[i] = eps
      endpointCount += eps.length
    }
    const largeClusterMode = endpointCount > config.largeClusterEndpointsThreshold

    const out = new RuleTableBuilder(config.ipFamily, undefined, 'text')
    writeFixedChains(out, config)
    // Chains of replaced or dropped parts, and the parts built now: the partial stale-chain check.
    const unused: ChainName[] = []
    const rebuilt: KeptServicePort[] = []
    // KUBE-SERVICES and the other shared chains are joined from kept runs of service ports, so
    // a sync joins about ports/32 pieces per chain and rejoins only the runs that changed.
    const runs = new Map<KeptServicePort, KeptRun>()
    let members: KeptServicePort[] = []
    const endRun = (): void => {
      const run = this.#run(members)
      runs.set(members[0]!, run)
      appendCaptureRules(out, run)
      members = []
    }
    for (let i = 0; i < ports.length; i++) {
      let k = kept[i]
      if (k === undefined || k.endpoints !== endpoints[i] || k.largeClusterMode !== largeClusterMode) {
        if (k !== undefined) pushOwnChains(unused, k)
        k = this.#keep(ports[i]!, endpoints[i]!, largeClusterMode)
        rebuilt.push(k)
      }
      k.generation = generation
      kept[i] = k
      if (sync.mode === 'full') appendOwnChains(out, k.rules)
      members.push(k)
      if (k.endsRun) endRun()
    }
    if (members.length > 0) endRun()
    this.#runs = runs
    // Partial sync: the changed Services' own chains, found by search (ports are sorted by ns/name first).
    if (sync.mode === 'partial') {
      for (const name of sync.changedServices) {
        for (let i = firstPortOf(ports, name); i < ports.length && serviceName(ports[i]!) === name; i++) appendOwnChains(out, kept[i]!.rules)
      }
    }
    // Each port has one entry, so more entries than ports means some belong to ports that left.
    if (this.#kept.size > ports.length) {
      for (const [sp, k] of this.#kept) {
        if (k.generation === generation) continue
        pushOwnChains(unused, k)
        this.#kept.delete(sp)
      }
    }

    const existing = input.existingNatChains
    if (existing.size > 0 && (input.deleteStaleChains ?? true)) {
      const stale = sync.mode === 'full' || firstBuild ? this.#staleFromScratch(existing) : staleAmong(unused, rebuilt, existing)
      for (const chain of stale) out.nat.delete(chain)
    }
    writeNodePortsTail(out, config)
    return out.finish()
  }

  #keep(sp: ServicePortInfo, endpoints: readonly EndpointInfo[], largeClusterMode: boolean): KeptServicePort {
    const plan = planServicePort(sp, endpoints, this.#config)
    const kept: KeptServicePort = {
      key: servicePortKey(sp.name),
      endpoints,
      largeClusterMode,
      rules: buildServicePortRules(plan, this.#config, { largeClusterMode, ownChains: true, render: 'text' }),
      // Content-defined: about 1 in 32 ports (by a character of its chain hash) ends a run, so adding
      // or removing a Service changes the run around it, not every run after it.
      endsRun: plan.clusterPolicyChain.endsWith('A'),
      generation: 0,
    }
    this.#kept.set(sp, kept)
    return kept
  }

  #run(members: readonly KeptServicePort[]): KeptRun {
    const kept = this.#runs.get(members[0]!)
    if (kept !== undefined && kept.members.length === members.length && kept.members.every((m, i) => m === members[i])) return kept
    const filter = new TableBuilder('filter', undefined, 'text')
    const nat = new TableBuilder('nat', undefined, 'text')
    for (const m of members) {
      for (const part of m.rules.filterCapture) filter.append(part)
      for (const part of m.rules.natCapture) nat.append(part)
    }
    return { members, filterCapture: filter.parts(), natCapture: nat.parts() }
  }

  /** upstream: every service chain on the node that no service port uses now. */
  #staleFromScratch(existing: ExistingChains): ChainName[] {
    const active = new Set<string>()
    for (const kept of this.#kept.values()) for (const { chain } of kept.rules.chains!) active.add(chain)
    const stale: ChainName[] = []
    for (const chain of existing.keys()) if (isServiceChain(chain) && !active.has(chain)) stale.push(chain as ChainName)
    return stale
  }
}

function firstPortOf(ports: readonly ServicePortInfo[], name: string): number {
  let lo = 0
  let hi = ports.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (serviceName(ports[mid]!) < name) lo = mid + 1
    else hi = mid
  }
  return lo
}

function pushOwnChains(into: ChainName[], kept: KeptServicePort): void {
  for (const { chain } of kept.rules.chains!) into.push(chain)
}

/**
 * The same answer as the scan from scratch when the node holds only chains the previous build
 * used: a chain can only have become stale by leaving a replaced or dropped part, and a chain
 * name belongs to one service port, so it is still active only if that port's new part has it.
 */
function staleAmong(unused: readonly ChainName[], rebuilt: readonly KeptServicePort[], existing: ExistingChains): ChainName[] {
  if (unused.length === 0) return []
  const active = new Set<string>()
  for (const kept of rebuilt) for (const { chain } of kept.rules.chains!) active.add(chain)
  return [...new Set(unused)].filter((chain) => existing.has(chain) && !active.has(chain))
}
