/**
 * buildNftablesRules: (service ports, endpoints, node config) -> NftRuleset, mirroring upstream
 * kube-proxy's nftables syncProxyRules (pkg/proxy/nftables/proxier.go at 531be812) as a full
 * sync on a fresh node. Pure: no clock, no randomness, no I/O.
 */
import type { Cidr } from '../../net/index.js'
import type { ProxierConfig, ProxyState } from '../model/index.js'
import { kubeProxyTable } from './names.js'
import { planNftServicePort } from './plan.js'
import { NftRulesetBuilder } from './ruleset-builder.js'
import { writeCaptureElements } from './service-capture.js'
import { declareServiceChains, writeServiceChains } from './service-chains.js'
import { writeSetup } from './setup.js'
import type { NftRuleset } from './types.js'

export interface NftablesBuildInput {
  readonly state: ProxyState
  readonly config: ProxierConfig
  /**
   * Replaces config.serviceCIDRs (either family; the other is ignored). Upstream learns them from
   * ServiceCIDR objects; without any the "drop traffic to unallocated ClusterIPs" rule is omitted.
   */
  readonly serviceCIDRs?: readonly Cidr[]
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
  }
  return out.finish(config.ipFamily === 'IPv4' ? 'ip' : 'ip6', { name: kubeProxyTable, comment: 'rules for kube-proxy' })
}
