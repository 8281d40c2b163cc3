/**
 * Every Node's iptables rules from one set of manifests, with the node-independent work shared
 * between them (iptables/cluster-rules.ts): what `kpe rules --all-nodes` prints. The cluster
 * model is built once; each node adds only its settled config.
 */
import type { IPFamily } from '../net/index.js'
import { ClusterIptablesRules, type SharedNodeRules } from './iptables/index.js'
import { buildProxyState, clusterObjects, nodeProxierConfig, type NodeConfigSource } from './model/index.js'
import type { ManifestSet } from '../api/index.js'

export interface AllNodesRulesRequest extends NodeConfigSource {
  readonly manifests: ManifestSet
  readonly ipFamily: IPFamily
}

/** The nodes' rules in the order named; each equals buildNodeRules of that node, rendered. */
export function buildAllNodesRules(req: AllNodesRulesRequest, nodeNames: readonly string[]): SharedNodeRules[] {
  const objects = clusterObjects(req.manifests)
  const state = buildProxyState(objects.services, objects.endpointSlices, req.ipFamily, nodeNames[0] ?? '')
  const cluster = new ClusterIptablesRules(state)
  return nodeNames.map((nodeName) => cluster.forNode(nodeProxierConfig(objects, req, nodeName, req.ipFamily)))
}
