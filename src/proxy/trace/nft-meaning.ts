/**
 * Why kube-proxy's nftables rules dropped or rejected a packet, in a Service owner's words,
 * read from the shape of the walk: the verdict-map element that matched (its comment names the
 * Service port), or the chain that decided (`firewall-…`, `cluster-ips-check`). kube-proxy's
 * own names are the vocabulary (nftables/names.ts); nothing here parses rule text.
 */
import type { NftDocument, NftHop, NftOutcome } from '../netfilter/index.js'
import { clusterIPsCheckChain, clusterIPsSet, firewallIPsMap, noEndpointNodePortsMap, noEndpointServicesMap } from '../nftables/index.js'

/** `firewall-ULMVA6XW-ns1/svc1/tcp/p80` -> `ns1/svc1:p80`. */
function servicePortOfChain(chain: string): string | undefined {
  const m = /^[a-z]+-[A-Z0-9]{8}-([^/]+)\/([^/]+)\/[a-z]+\/([^_]+)$/.exec(chain)
  return m ? `${m[1]}/${m[2]}:${m[3]}` : undefined
}

function lastElementHop(hops: readonly NftHop[], maps: readonly string[]): NftHop | undefined {
  for (let i = hops.length - 1; i >= 0; i--) if (hops[i]!.element && maps.includes(hops[i]!.element!.map)) return hops[i]
  return undefined
}

export function nftDenyReason(o: NftOutcome, packet: { readonly src: string; readonly dst: string; readonly dport: number; readonly proto: string }, node: string, doc: NftDocument): string {
  const at = o.decidedAt
  const noEndpoints = lastElementHop(o.hops, [noEndpointServicesMap, noEndpointNodePortsMap])
  if (noEndpoints) {
    const svc = noEndpoints.element!.element.comment ?? 'the service'
    if (o.verdict.kind === 'reject') return `service ${svc} has no ready endpoints: connection refused`
    const key0 = noEndpoints.element!.element.key[0]
    const table = doc.tables.find((t) => `${t.family} ${t.name}` === noEndpoints.table)
    const internal = noEndpoints.element!.map === noEndpointServicesMap && (table?.sets.find((s) => s.name === clusterIPsSet)?.elements.some((e) => e.key[0] === key0) ?? false)
    return `${internal ? 'internalTrafficPolicy' : 'externalTrafficPolicy'} Local and no local endpoints for ${svc} on ${node}`
  }
  if (at && lastElementHop(o.hops, [firewallIPsMap]) && servicePortOfChain(at.chain)) {
    return `source ${packet.src} not in loadBalancerSourceRanges of ${servicePortOfChain(at.chain)}`
  }
  if (at?.chain === clusterIPsCheckChain) {
    return o.verdict.kind === 'reject'
      ? `${packet.dst} is a ClusterIP, but no Service serves ${packet.proto} port ${packet.dport} on it`
      : `${packet.dst} is in the service CIDR but no Service has it as ClusterIP`
  }
  const comment = at ? o.hops.find((h) => h.table === at.table && h.chain === at.chain && h.rule === at.rule)?.ruleRef.comment : undefined
  if (at) return `${at.table} ${at.chain} rule ${at.rule}${comment ? ` ("${comment}")` : ''}`
  return `the ${o.route ?? ''} hook's policy`
}
