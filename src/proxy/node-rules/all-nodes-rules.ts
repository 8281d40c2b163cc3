/**
 * Every Node's rules from one set of manifests, in either mode, with the node-independent work
 * shared between them (iptables/cluster-rules.ts, nftables/cluster-rules.ts): what `kpe rules
 * --all-nodes` prints. The cluster model is built once; each node adds only its settled config.
 */
import type { IPFamily } from '../../net/index.js'
import type { ManifestSet } from '../../api/index.js'
import { ClusterIptablesRules, type SharedNodeRules } from '../iptables/index.js'
import { buildProxyState, clusterObjects, nodeProxierConfig, type NodeConfigSource, type ProxierConfig, type ProxyState } from '../model/index.js'
import { ClusterNftablesRules, type SharedNodeNftRules } from '../nftables/index.js'

export interface AllNodesRulesRequest extends NodeConfigSource {
  readonly manifests: ManifestSet
  readonly ipFamily: IPFamily
}

/** The nodes' iptables rules in the order named; each equals buildNodeRules of that node, rendered. */
export function buildAllNodesRules(req: AllNodesRulesRequest, nodeNames: readonly string[]): SharedNodeRules[] {
  const { state, configs } = clusterInput(req, nodeNames)
  const cluster = new ClusterIptablesRules(state)
  return configs.map((c) => cluster.forNode(c))
}

/** The same in nftables mode; each equals buildNodeNftRules of that node, rendered. */
export function buildAllNodesNftRules(req: AllNodesRulesRequest, nodeNames: readonly string[]): SharedNodeNftRules[] {
  const { state, configs } = clusterInput(req, nodeNames)
  const cluster = new ClusterNftablesRules(state)
  return configs.map((c) => cluster.forNode(c))
}

function clusterInput(req: AllNodesRulesRequest, nodeNames: readonly string[]): { state: ProxyState; configs: ProxierConfig[] } {
  const objects = clusterObjects(req.manifests)
  const state = buildProxyState(objects.services, objects.endpointSlices, req.ipFamily, nodeNames[0] ?? '')
  return { state, configs: nodeNames.map((nodeName) => nodeProxierConfig(objects, req, nodeName, req.ipFamily)) }
}
