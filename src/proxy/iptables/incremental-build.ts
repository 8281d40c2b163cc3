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
import type { SyncMode } from './build.js'
import { isServiceChain } from './chains.js'
import { writeFixedChains, writeNodePortsTail } from './fixed-chains.js'
import { planServicePort } from './plan.js'
import { RuleTableBuilder } from './rule-table-builder.js'
import { appendServicePortRules, buildServicePortRules, type ServicePortRules } from './service-port-rules.js'

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
  /** `ns/name`: the unit of change in a partial sync. */
  readonly service: string
  readonly endpoints: readonly EndpointInfo[]
  readonly largeClusterMode: boolean
  /** With own chains, rendered. */
  readonly rules: ServicePortRules
  /** The last build that used it; older ones are dropped after a build. */
  generation: number
}

const noEndpoints: readonly EndpointInfo[] = []

export class IncrementalIptablesBuilder {
  readonly #config: ProxierConfig
  readonly #kept = new Map<ServicePortInfo, KeptServicePort>()
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
    const endpoints: (readonly EndpointInfo[])[] = new Array(ports.length)
    let endpointCount = 0
    for (let i = 0; i < ports.length; i++) {
      const sp = ports[i]!
      const eps = state.endpoints.get(this.#kept.get(sp)?.key ?? servicePortKey(sp.name)) ?? noEndpoints
      endpoints[i] = eps
      endpointCount += eps.length
    }
    const largeClusterMode = endpointCount > config.largeClusterEndpointsThreshold

    const out = new RuleTableBuilder(config.ipFamily, undefined, 'text')
    writeFixedChains(out, config)
    // Chains of replaced or dropped parts, and of parts built now: the partial stale-chain check.
    const unused: ChainName[] = []
    const rebuilt: KeptServicePort[] = []
    for (let i = 0; i < ports.length; i++) {
      const sp = ports[i]!
      let kept = this.#kept.get(sp)
      if (kept === undefined || kept.endpoints !== endpoints[i] || kept.largeClusterMode !== largeClusterMode) {
        if (kept !== undefined) pushOwnChains(unused, kept)
        kept = this.#keep(sp, endpoints[i]!, largeClusterMode)
        rebuilt.push(kept)
      }
      kept.generation = generation
      const ownChains = sync.mode === 'full' || sync.changedServices.has(kept.service)
      appendServicePortRules(out, kept.rules, { chains: ownChains ? 'own' : 'none' })
    }
    for (const [sp, kept] of this.#kept) {
      if (kept.generation === generation) continue
      pushOwnChains(unused, kept)
      this.#kept.delete(sp)
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
      service: `${sp.name.namespace}/${sp.name.name}`,
      endpoints,
      largeClusterMode,
      rules: buildServicePortRules(plan, this.#config, { largeClusterMode, ownChains: true, render: 'text' }),
      generation: 0,
    }
    this.#kept.set(sp, kept)
    return kept
  }

  /** upstream: every service chain on the node that no service port uses now. */
  #staleFromScratch(existing: ExistingChains): ChainName[] {
    const active = new Set<string>()
    for (const kept of this.#kept.values()) for (const [chain] of kept.rules.chains!.entries()) active.add(chain)
    const stale: ChainName[] = []
    for (const chain of existing.keys()) if (isServiceChain(chain) && !active.has(chain)) stale.push(chain as ChainName)
    return stale
  }
}

function pushOwnChains(into: ChainName[], kept: KeptServicePort): void {
  for (const [chain] of kept.rules.chains!.entries()) into.push(chain)
}

/**
 * The same answer as the scan from scratch when the node holds only chains the previous build
 * used: a chain can only have become stale by leaving a replaced or dropped part, and a chain
 * name belongs to one service port, so it is still active only if that port's new part has it.
 */
function staleAmong(unused: readonly ChainName[], rebuilt: readonly KeptServicePort[], existing: ExistingChains): ChainName[] {
  if (unused.length === 0) return []
  const active = new Set<string>()
  for (const kept of rebuilt) for (const [chain] of kept.rules.chains!.entries()) active.add(chain)
  return [...new Set(unused)].filter((chain) => existing.has(chain) && !active.has(chain))
}
