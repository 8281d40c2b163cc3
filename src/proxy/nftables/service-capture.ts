/**
 * Capture elements for one service port (the "capture" phase of upstream's nftables
 * syncProxyRules): cluster-ips, service-ips, firewall-ips, service-nodeports and the
 * no-endpoint-* maps. Written on every sync, whatever the service's chains.
 */
import type { NftServicePortPlan } from './plan.js'
import type { NftRulesetBuilder } from './ruleset-builder.js'
import type { NftElementKeyPart, NftElementVerdict } from './types.js'
import { clusterIPsSet, firewallIPsMap, noEndpointNodePortsMap, noEndpointServicesMap, serviceIPsMap, serviceNodePortsMap } from './names.js'

export function writeCaptureElements(out: NftRulesetBuilder, plan: NftServicePortPlan): void {
  const { sp, proto, names, common } = plan
  const comment = sp.nameString
  const ipKey = (address: string): NftElementKeyPart[] => [{ kind: 'address', address }, { kind: 'proto', proto }, { kind: 'port', port: sp.port }]
  const gotoChain = (chain: typeof names.externalChain): NftElementVerdict => ({ kind: 'goto', chain })
  const noEndpoints = (address: string, value: NftElementVerdict): void => out.mapElement(noEndpointServicesMap, { key: ipKey(address), comment, value })

  out.setElement(clusterIPsSet, { key: [{ kind: 'address', address: sp.clusterIP }] })
  if (common.hasInternalEndpoints) out.mapElement(serviceIPsMap, { key: ipKey(sp.clusterIP), value: gotoChain(plan.internalTrafficChain) })
  else if (plan.internalTrafficFilterVerdict) noEndpoints(sp.clusterIP, plan.internalTrafficFilterVerdict)

  for (const ip of sp.externalIPs) {
    if (common.hasEndpoints) out.mapElement(serviceIPsMap, { key: ipKey(ip), value: gotoChain(names.externalChain) })
    if (plan.externalTrafficFilterVerdict) noEndpoints(ip, plan.externalTrafficFilterVerdict)
  }

  for (const ip of sp.loadBalancerVIPs) {
    if (common.hasEndpoints) out.mapElement(serviceIPsMap, { key: ipKey(ip), value: gotoChain(names.externalChain) })
    if (plan.usesFWChain) out.mapElement(firewallIPsMap, { key: ipKey(ip), value: gotoChain(names.firewallChain) })
  }
  if (plan.externalTrafficFilterVerdict) for (const ip of sp.loadBalancerVIPs) noEndpoints(ip, plan.externalTrafficFilterVerdict)

  if (sp.nodePort !== 0) {
    const key: NftElementKeyPart[] = [{ kind: 'proto', proto }, { kind: 'port', port: sp.nodePort }]
    // NodePorts are not subject to loadBalancerSourceRanges (as upstream).
    if (common.hasEndpoints) out.mapElement(serviceNodePortsMap, { key, value: gotoChain(names.externalChain) })
    if (plan.externalTrafficFilterVerdict) out.mapElement(noEndpointNodePortsMap, { key, comment, value: plan.externalTrafficFilterVerdict })
  }
}
