/**
 * buildNftablesRules: (service ports, endpoints, node config) -> NftRuleset, mirroring upstream
 * kube-proxy's nftables syncProxyRules (pkg/proxy/nftables/proxier.go at 531be812): the table a
 * node holds after a sync, flushed stale chains included. Pure: no clock, no randomness, no I/O.
 */
import type { ChainName, Cidr } from '../../net/index.js'
import type { ProxierConfig, ProxyState, ServicePortName } from '../model/index.js'
import { kubeProxyTable } from './names.js'
import { planNftServicePort } from './plan.js'
import { NftRulesetBuilder } from './ruleset-builder.js'
import { writeCaptureElements } from './service-capture.js'
import { declareServiceChains, serviceChainsOf, writeServiceChains } from './service-chains.js'
import { writeSetup } from './setup.js'
import { withStaleChains } from './stale-chains.js'
import type { NftRuleset } from './types.js'

export interface NftablesBuildInput {
  readonly state: ProxyState
  readonly config: ProxierConfig
  /**
   * Replaces config.serviceCIDRs (either family; the other is ignored). Upstream learns them from
   * ServiceCIDR objects; without any the "drop traffic to unallocated ClusterIPs" rule is omitted.
   */
  readonly serviceCIDRs?: readonly Cidr[]
  /** Flushed chains the node still holds (stale-chains.ts): kept as empty chains unless used again. */
  readonly staleChains?: readonly ChainName[]
  /** Filled, when given, with the Service port each per-service chain belongs to. */
  readonly chainOwners?: Map<ChainName, ServicePortName>
}

export function buildNftablesRules(input: NftablesBuildInput): NftRuleset {
  const { state, config } = input
  const out = new NftRulesetBuilder()
  writeSetup(out, config, input.serviceCIDRs ?? config.serviceCIDRs)
  for (const sp of state.servicePorts) {
    const plan = planNftServicePort(sp, state.endpoints.get(`${sp.nameString}/${sp.protocol}`) ?? [], config)
    declareServiceChains(out, plan)
    writeCaptureElements(out, plan)
    writeServiceChains(out, plan, config)
    if (input.chainOwners) for (const c of serviceChainsOf(plan)) input.chainOwners.set(c, sp.name)
  }
  const rs = out.finish(config.ipFamily === 'IPv4' ? 'ip' : 'ip6', { name: kubeProxyTable, comment: 'rules for kube-proxy' })
  return withStaleChains(rs, input.staleChains ?? [])
}
