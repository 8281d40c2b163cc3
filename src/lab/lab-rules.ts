/**
 * Which rules each lab node holds after a full sync: every node x IP family of the cluster,
 * built exactly as `kpe rules --node` builds them: what the proxier loops of lab-proxier.ts
 * write, which the lab plan and the oracle tests read. Pure: manifests in, tables out.
 */
import type { ManifestSet } from '../api/index.js'
import type { IPFamily } from '../net/index.js'
import { clusterFamilies, clusterObjects, type NodeConfigSource, type NodeProxierInput } from '../proxy/model/index.js'
import { buildNodeRules } from '../proxy/node-rules/index.js'
import type { RuleTable } from '../proxy/netfilter/index.js'

export interface NodeRules {
  readonly node: string
  readonly family: IPFamily
  readonly table: RuleTable
  readonly input: NodeProxierInput
}

export function labFamilies(config: NodeConfigSource | undefined): IPFamily[] {
  return clusterFamilies(config?.kubeProxyConfiguration?.clusterCIDR)
}

/** Full-sync rules for every node and family. */
export function buildLabRules(manifests: ManifestSet, config: NodeConfigSource | undefined): NodeRules[] {
  const nodes = clusterObjects(manifests).nodes.map((n) => n.metadata.name ?? '')
  return nodes.flatMap((node) =>
    labFamilies(config).map((family) => {
      const { table, input } = buildNodeRules({ manifests, kubeProxyConfiguration: config?.kubeProxyConfiguration, overrides: config?.overrides, nodeName: node, ipFamily: family, sync: { mode: 'full' }, existingNatChains: [] })
      return { node, family, table, input }
    }),
  )
}
