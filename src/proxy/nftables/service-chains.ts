/**
 * Per-service-port chains (upstream nftables syncProxyRules after the capture phase): the
 * service/local policy chains with affinity and numgen dispatch, the external chain with its
 * short-circuits, the firewall chain, the affinity sets and the endpoint chains.
 */
import { cidrContains, parseCidr, type ChainName } from '../../net/index.js'
import type { ProxierConfig } from '../model/index.js'
import { markMasqChain } from './names.js'
import type { NftEndpoint, NftServicePortPlan } from './plan.js'
import { addrInSet, addrIs, goto, jump, localTrafficMatch, nftRule } from './rule-parts.js'
import type { NftRulesetBuilder } from './ruleset-builder.js'
import { addrType } from './setup.js'

/** The chains this service port uses, policy chains first, then its endpoints. */
export function serviceChainsOf(plan: NftServicePortPlan): ChainName[] {
  const { common, names } = plan
  return [
    ...(common.usesClusterPolicyChain ? [names.clusterPolicyChain] : []),
    ...(common.usesLocalPolicyChain ? [names.localPolicyChain] : []),
    ...(common.usesExternalTrafficChain ? [names.externalChain] : []),
    ...(plan.usesFWChain ? [names.firewallChain] : []),
    ...plan.reachable.map((e) => e.names.chain),
  ]
}

/** Creates the chains this service port uses. */
export function declareServiceChains(out: NftRulesetBuilder, plan: NftServicePortPlan): void {
  for (const c of serviceChainsOf(plan)) out.chain(c)
}

export function writeServiceChains(out: NftRulesetBuilder, plan: NftServicePortPlan, config: ProxierConfig): void {
  writeInternalTrafficRules(out, plan, config)
  writeExternalTrafficRules(out, plan, config)
  writeFirewallRules(out, plan, config)
  writeAffinitySets(out, plan, config)
  if (plan.common.usesClusterPolicyChain) writeServiceToEndpointRules(out, plan, plan.names.clusterPolicyChain, plan.clusterEndpoints)
  if (plan.common.usesLocalPolicyChain) writeServiceToEndpointRules(out, plan, plan.names.localPolicyChain, plan.localEndpoints)
  for (const e of plan.reachable) writeEndpointChain(out, plan, e)
}

/** Masquerade off-cluster traffic to the ClusterIP (masqueradeAll: all of it). */
function writeInternalTrafficRules(out: NftRulesetBuilder, plan: NftServicePortPlan, config: ProxierConfig): void {
  if (!plan.common.hasInternalEndpoints) return
  const toClusterIP = addrIs('daddr', plan.sp.clusterIP)
  if (config.masqueradeAll) {
    out.rule(plan.internalTrafficChain, nftRule({ matches: [toClusterIP], verdict: jump(markMasqChain) }))
    return
  }
  const notLocal = localTrafficMatch(config.localDetector, 'not-local')
  if (notLocal) out.rule(plan.internalTrafficChain, nftRule({ matches: [toClusterIP, notLocal], verdict: jump(markMasqChain) }))
}

function writeExternalTrafficRules(out: NftRulesetBuilder, plan: NftServicePortPlan, config: ProxierConfig): void {
  const { common, names, sp } = plan
  if (!common.usesExternalTrafficChain) return
  const ext = names.externalChain
  if (!sp.externalPolicyLocal) {
    // Cluster endpoints may be on another node: masquerade.
    out.rule(ext, nftRule({ verdict: jump(markMasqChain) }))
  } else {
    const local = localTrafficMatch(config.localDetector, 'local')
    if (local) out.rule(ext, nftRule({ matches: [local], verdict: goto(names.clusterPolicyChain), comment: 'short-circuit pod traffic' }))
    out.rule(ext, nftRule({ matches: [{ kind: 'fib-local', side: 'saddr' }], verdict: jump(markMasqChain), comment: 'masquerade local traffic' }))
    out.rule(ext, nftRule({ matches: [{ kind: 'fib-local', side: 'saddr' }], verdict: goto(names.clusterPolicyChain), comment: 'short-circuit local traffic' }))
  }
  if (common.hasExternalEndpoints) out.rule(ext, nftRule({ verdict: goto(plan.externalPolicyChain) }))
}

/** Drop sources outside loadBalancerSourceRanges (plus the LB IPs when a range holds the node IP). */
function writeFirewallRules(out: NftRulesetBuilder, plan: NftServicePortPlan, config: ProxierConfig): void {
  if (!plan.usesFWChain) return
  const { sp } = plan
  const nodeIP = config.nodeIP
  const allowFromNode = nodeIP !== undefined && sp.loadBalancerSourceRanges.some((r) => {
    const c = parseCidr(r)
    return c !== undefined && cidrContains(c, nodeIP)
  })
  const items = [...sp.loadBalancerSourceRanges, ...(allowFromNode ? sp.loadBalancerVIPs : [])]
  out.rule(plan.names.firewallChain, nftRule({
    matches: [{ kind: 'addr', side: 'saddr', value: { kind: 'anonymous-set', items }, negated: true }],
    verdict: { kind: 'drop' },
  }))
}

function writeAffinitySets(out: NftRulesetBuilder, plan: NftServicePortPlan, config: ProxierConfig): void {
  const timeout = plan.sp.stickyMaxAgeSeconds
  if (timeout === undefined) return
  for (const e of plan.reachable) {
    out.set({ name: e.names.affinitySet, type: [addrType(config)], flags: ['dynamic', 'timeout'], timeoutSeconds: timeout })
  }
}

/** Upstream writeServiceToEndpointRules: affinity lookups, then one numgen vmap over the endpoints. */
function writeServiceToEndpointRules(out: NftRulesetBuilder, plan: NftServicePortPlan, chain: ChainName, endpoints: readonly NftEndpoint[]): void {
  if (plan.sp.stickyMaxAgeSeconds !== undefined) {
    for (const e of endpoints) out.rule(chain, nftRule({ matches: [addrInSet('saddr', e.names.affinitySet)], verdict: goto(e.names.chain) }))
  }
  out.rule(chain, nftRule({ verdict: { kind: 'numgen-vmap', targets: endpoints.map((e) => e.names.chain) } }))
}

function writeEndpointChain(out: NftRulesetBuilder, plan: NftServicePortPlan, e: NftEndpoint): void {
  const chain = e.names.chain
  // Hairpin: traffic that loops back to its sender is masqueraded.
  out.rule(chain, nftRule({ matches: [addrIs('saddr', e.endpoint.ip)], verdict: jump(markMasqChain) }))
  if (plan.sp.stickyMaxAgeSeconds !== undefined) out.rule(chain, nftRule({ statements: [{ kind: 'set-update', set: e.names.affinitySet, key: 'saddr' }] }))
  out.rule(chain, nftRule({ matches: [{ kind: 'l4proto', proto: plan.proto }], statements: [{ kind: 'dnat', to: e.endpoint.endpoint }] }))
}
