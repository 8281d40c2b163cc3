/**
 * `kpe up --nodes N`: N more Nodes beyond the configuration's, named node-0000, node-0001, ...
 * (as KWOK's examples name theirs), with InternalIPs from 172.16.0.0/12. Pure: the names, the
 * addresses and the check that the cluster CIDR holds a pod subnet for every node.
 */
import { UsageError } from '../errors.js'
import { bigIntToIP, cidrContains, parseCidr, type IPAddress } from '../net/index.js'
import { subnetCount } from '../controllers/index.js'
import type { ClusterConfig, NodeConfig } from './cluster-config.js'

/** Where the added nodes' InternalIPs come from: a private range the demo nodes do not use. */
export const scaleNodeAddressRange = parseCidr('172.16.0.0/12')!

/** The added nodes' names: zero-padded to 4 digits (or more for larger counts), so they sort. */
export function scaleNodeName(index: number, count: number): string {
  return `node-${String(index).padStart(Math.max(4, String(count - 1).length), '0')}`
}

/** N NodeConfigs beyond `config.nodes`, skipping names and addresses the configuration already holds. */
export function scaleNodeConfigs(config: ClusterConfig, count: number): NodeConfig[] {
  const names = new Set(config.nodes.map((n) => n.name))
  const addresses = new Set<string>(config.nodes.flatMap((n) => n.internalIPs))
  const taken = [...config.clusterCIDRs.map((c) => c.cidr), ...config.serviceCIDRs]
  const size = 1n << BigInt(32 - scaleNodeAddressRange.prefix)
  const out: NodeConfig[] = []
  let offset = 10n
  for (let i = 0; out.length < count; i++) {
    const name = scaleNodeName(i, count)
    if (names.has(name)) continue
    let ip: IPAddress
    do {
      if (offset >= size - 1n) throw new UsageError(`--nodes ${count}: ${scaleNodeAddressRange.cidr} has no address left for node ${name}`)
      ip = bigIntToIP(scaleNodeAddressRange.network + offset++, 'IPv4')
    } while (addresses.has(ip) || taken.some((c) => cidrContains(c, ip)))
    out.push({ name, internalIPs: [ip], labels: {}, taints: [] })
  }
  return out
}

/**
 * The configuration with `count` more nodes. Refuses, before anything starts, a count the
 * cluster CIDR cannot give a pod subnet each (node IPAM would leave those nodes without one).
 */
export function withScaleNodes(config: ClusterConfig, count: number): ClusterConfig {
  const added = scaleNodeConfigs(config, count)
  const total = config.nodes.length + added.length
  for (const c of config.clusterCIDRs) {
    const room = subnetCount(c)
    if (BigInt(total) > room) {
      throw new UsageError(`--nodes ${count}: ${total} nodes, but clusterCIDR ${c.cidr.cidr} with nodeCIDRMaskSize ${c.nodeMaskSize} holds ${room} node subnets`, {
        hint: 'use a --cluster-config with a larger clusterCIDR (e.g. 10.240.0.0/12 holds 4096 /24 subnets) or a longer nodeCIDRMaskSize (docs/scale.md)',
      })
    }
  }
  return { ...config, nodes: [...config.nodes, ...added] }
}
