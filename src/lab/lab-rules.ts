/**
 * Which rules each lab node gets: every node x IP family of the cluster, built exactly as
 * `kpe rules --node` builds them, for a full sync or for a partial sync since an earlier
 * set of manifests (upstream's partial restores). Pure: manifests in, tables out.
 */
import type { ManifestSet, ProxierConfigFile } from '../api/index.js'
import type { ChainName, IPFamily } from '../net/index.js'
import { changedServiceNames, clusterFamilies, clusterObjects, type NodeProxierInput } from '../proxy/model/index.js'
import { buildNodeRules } from '../proxy/node-rules.js'
import { isServiceChain } from '../proxy/iptables/index.js'
import type { RuleTable } from '../proxy/netfilter/index.js'

export interface NodeRules {
  readonly node: string
  readonly family: IPFamily
  readonly table: RuleTable
  readonly input: NodeProxierInput
}

export function labFamilies(configFile: ProxierConfigFile | undefined): IPFamily[] {
  return clusterFamilies(configFile?.kubeProxyConfiguration.clusterCIDR)
}

/** Full-sync rules for every node and family. */
export function buildLabRules(manifests: ManifestSet, configFile: ProxierConfigFile | undefined): NodeRules[] {
  const nodes = clusterObjects(manifests).nodes.map((n) => n.metadata.name ?? '')
  return nodes.flatMap((node) =>
    labFamilies(configFile).map((family) => {
      const { table, input } = buildNodeRules({ manifests, ...(configFile ? { configFile } : {}), nodeName: node, ipFamily: family, sync: { mode: 'full' }, existingNatChains: [] })
      return { node, family, table, input }
    }),
  )
}

/** Partial-sync rules after the manifests changed from `before` to `after` (only changed services' chains). */
export function buildLabSyncRules(before: ManifestSet, after: ManifestSet, configFile: ProxierConfigFile | undefined): NodeRules[] {
  const changedServices = changedServiceNames(clusterObjects(before), clusterObjects(after))
  const nodes = clusterObjects(after).nodes.map((n) => n.metadata.name ?? '')
  return nodes.flatMap((node) =>
    labFamilies(configFile).map((family) => {
      const req = { ...(configFile ? { configFile } : {}), nodeName: node, ipFamily: family }
      const previous = buildNodeRules({ ...req, manifests: before, sync: { mode: 'full' }, existingNatChains: [] }).table
      const { table, input } = buildNodeRules({ ...req, manifests: after, sync: { mode: 'partial', changedServices }, existingNatChains: natServiceChains(previous) })
      return { node, family, table, input }
    }),
  )
}

function natServiceChains(table: RuleTable): ChainName[] {
  return (table.tables.find((t) => t.name === 'nat')?.chains ?? []).map((c) => c.name).filter(isServiceChain)
}
