/**
 * Capture elements for one service port (the "capture" phase of upstream's nftables
 * syncProxyRules): cluster-ips, service-ips, firewall-ips, service-nodeports and the
 * no-endpoint-* maps. Written on every sync, whatever the service's chains.
 */
import type { NftServicePortPlan } from './plan.js'
import type { NftRulesetBuilder } from './ruleset-builder.js'
import type { NftElementKeyPart, NftElementVerdict } from './types.js'
import { clusterIPsSet, firewallIPsMap, noEndpointNodePortsMap, noEndpointServicesMap, serviceIPsMap, serviceNodePortsMap } from './names.js'
import { clusterIPField, externalIPField, ingressField, nodePortField, servicePortOrigin, type NftOriginOf } from './nft-origin.js'
import type { ServiceField } from '../iptables/index.js'

export function writeCaptureElements(out: NftRulesetBuilder, plan: NftServicePortPlan): void {
  const { sp, proto, names, common } = plan
  const comment = sp.nameString
  const ipKey = (address: string): NftElementKeyPart[] => [{ kind: 'address', address }, { kind: 'proto', proto }, { kind: 'port', port: sp.port }]
  const gotoChain = (chain: typeof names.externalChain): NftElementVerdict => ({ kind: 'goto', chain })
  const capture = (field: ServiceField, detail?: { internalTrafficPolicy: true }): NftOriginOf => servicePortOrigin(sp, 'capture', field, detail)
  /** Why a no-endpoint element exists: no endpoint at all (reject), or none on this node (drop). */
  const noEndpointsWhy = (v: NftElementVerdict, field: ServiceField): NftOriginOf => servicePortOrigin(sp, v.kind === 'drop' ? 'drop-no-local-endpoints' : 'reject-no-endpoints', field)
  const noEndpoints = (address: string, value: NftElementVerdict, field: ServiceField): void => out.mapElement(noEndpointServicesMap, { key: ipKey(address), comment, value }, noEndpointsWhy(value, field))

  out.setElement(clusterIPsSet, { key: [{ kind: 'address', address: sp.clusterIP }] }, capture(clusterIPField))
  if (common.hasInternalEndpoints) out.mapElement(serviceIPsMap, { key: ipKey(sp.clusterIP), value: gotoChain(plan.internalTrafficChain) }, capture(clusterIPField, sp.internalPolicyLocal ? { internalTrafficPolicy: true } : undefined))
  else if (plan.internalTrafficFilterVerdict) noEndpoints(sp.clusterIP, plan.internalTrafficFilterVerdict, clusterIPField)

  for (const ip of sp.externalIPs) {
    if (common.hasEndpoints) out.mapElement(serviceIPsMap, { key: ipKey(ip), value: gotoChain(names.externalChain) }, capture(externalIPField(ip)))
    if (plan.externalTrafficFilterVerdict) noEndpoints(ip, plan.externalTrafficFilterVerdict, externalIPField(ip))
  }

  for (const ip of sp.loadBalancerVIPs) {
    if (common.hasEndpoints) out.mapElement(serviceIPsMap, { key: ipKey(ip), value: gotoChain(names.externalChain) }, capture(ingressField(ip)))
    if (plan.usesFWChain) out.mapElement(firewallIPsMap, { key: ipKey(ip), value: gotoChain(names.firewallChain) }, servicePortOrigin(sp, 'firewall-drop', ingressField(ip)))
  }
  if (plan.externalTrafficFilterVerdict) for (const ip of sp.loadBalancerVIPs) noEndpoints(ip, plan.externalTrafficFilterVerdict, ingressField(ip))

  if (sp.nodePort !== 0) {
    const key: NftElementKeyPart[] = [{ kind: 'proto', proto }, { kind: 'port', port: sp.nodePort }]
    // NodePorts are not subject to loadBalancerSourceRanges (as upstream).
    if (common.hasEndpoints) out.mapElement(serviceNodePortsMap, { key, value: gotoChain(names.externalChain) }, capture(nodePortField))
    const v = plan.externalTrafficFilterVerdict
    if (v) out.mapElement(noEndpointNodePortsMap, { key, comment, value: v }, noEndpointsWhy(v, nodePortField))
  }
}
