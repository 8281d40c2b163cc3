/**
 * buildIptablesRules: (service ports, endpoints, node config) -> RuleTable, mirroring upstream
 * kube-proxy's iptables syncProxyRules (pkg/proxy/iptables/proxier.go) phase by phase. Pure:
 * no clock, no randomness, no I/O. Partial syncs are the same function with a changed-set.
 */
import type { ChainName } from '../../net/index.js'
import { servicePortKey, type EndpointInfo, type ProxierConfig, type ProxyState, type ServicePortInfo } from '../model/index.js'
import type { RuleTable } from '../netfilter/index.js'
import { isServiceChain } from './chains.js'
import { writeFixedChains, writeNodePortsTail } from './fixed-chains.js'
import { planServicePort } from './plan.js'
import type { Provenance } from './rule-origin.js'
import { RuleTableBuilder } from './rule-table-builder.js'
import { activeServiceChains, appendCaptureRules, appendOwnChains, buildServicePortRules } from './service-port-rules.js'

export type SyncMode =
  | { readonly mode: 'full' }
  /** Only these namespaced names (`ns/name`) get their SVC/SVL/EXT/FW/SEP chains rewritten. */
  | { readonly mode: 'partial'; readonly changedServices: ReadonlySet<string> }

export interface IptablesBuildInput {
  readonly state: ProxyState
  readonly config: ProxierConfig
  readonly sync?: SyncMode
  /** nat chains that exist before this sync (iptables-save -t nat); stale service chains among them get -X. */
  readonly existingNatChains?: Iterable<ChainName>
  /** Large-cluster mode looks for stale chains only once per sync period; false skips the look. */
  readonly deleteStaleChains?: boolean
  /** When given, filled with each rule's typed origin (trace, `kpe rules --diff` and `--explain`). */
  readonly provenance?: Provenance
}


export function buildIptablesRules(input: IptablesBuildInput): RuleTable {
  const { state, config } = input
  const sync = input.sync ?? { mode: 'full' }
  const out = new RuleTableBuilder(config.ipFamily, input.provenance)
  const largeClusterMode = isLargeCluster(state, config)
  const existingNatChains = [...(input.existingNatChains ?? [])]
  // Only needed to find stale chains; skip the bookkeeping when there are none to check.
  const activeNatChains = existingNatChains.length > 0 && (input.deleteStaleChains ?? true) ? new Set<ChainName>() : undefined

  writeFixedChains(out, config)
  for (const sp of state.servicePorts) {
    const plan = planServicePort(sp, endpointsOf(state, sp), config)
    if (activeNatChains) for (const chain of activeServiceChains(plan)) activeNatChains.add(chain)
    // Partial sync: unchanged services keep their kernel chains; only KUBE-SERVICES & co. are rewritten.
    const ownChains = sync.mode === 'full' || sync.changedServices.has(serviceName(sp))
    const rules = buildServicePortRules(plan, config, { largeClusterMode, ownChains, render: 'values', provenance: input.provenance })
    appendCaptureRules(out, rules)
    appendOwnChains(out, rules)
  }
  if (activeNatChains) {
    for (const chain of existingNatChains) {
      if (isServiceChain(chain) && !activeNatChains.has(chain)) out.nat.delete(chain)
    }
  }
  writeNodePortsTail(out, config)
  return out.finish().table
}

/** upstream largeClusterMode: more endpoints than the threshold drops per-endpoint comments. */
export function isLargeCluster(state: ProxyState, config: ProxierConfig): boolean {
  let n = 0
  for (const sp of state.servicePorts) n += endpointsOf(state, sp).length
  return n > config.largeClusterEndpointsThreshold
}

/** The one empty endpoint list, so identity checks between syncs hold. */
export const noEndpoints: readonly EndpointInfo[] = []

/** A service port's endpoints; one shared empty list when it has none, so identity checks hold. */
export function endpointsOf(state: ProxyState, sp: ServicePortInfo): readonly EndpointInfo[] {
  return state.endpoints.get(servicePortKey(sp.name)) ?? noEndpoints
}

/** The Service (`ns/name`) a service port belongs to: the unit of change in a partial sync. */
export function serviceName(sp: ServicePortInfo): string {
  return `${sp.name.namespace}/${sp.name.name}`
}
