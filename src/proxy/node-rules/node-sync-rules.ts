/**
 * One node's rules for a sync since an earlier set of manifests: the rules the node held after a
 * full sync of `before`, and the partial (or full) sync planNodeSync gives for the manifests now.
 * What `kpe rules --since` prints.
 */
import type { ManifestSet } from '../../api/index.js'
import { clusterObjects, type NodeProxierInput } from '../model/index.js'
import { buildNodeRules, type NodeRulesRequest } from './node-rules.js'
import type { RuleTable } from '../netfilter/index.js'
import { heldServiceChains, planNodeSync } from './plan-node-sync.js'

export interface NodeSyncRules {
  readonly table: RuleTable
  readonly input: NodeProxierInput
  readonly nodeName: string
  /** The node's rules after the earlier full sync. */
  readonly previous: RuleTable
  readonly changedServices: ReadonlySet<string>
}

export function buildNodeRulesSince(req: Omit<NodeRulesRequest, 'sync' | 'existingNatChains'>, before: ManifestSet, opts: { readonly full?: boolean } = {}): NodeSyncRules {
  const previous = buildNodeRules({ ...req, manifests: before, sync: { mode: 'full' }, existingNatChains: [] }).table
  const plan = planNodeSync(clusterObjects(before), clusterObjects(req.manifests), opts)
  const built = buildNodeRules({ ...req, sync: plan.sync, existingNatChains: heldServiceChains(previous) })
  return { ...built, previous, changedServices: plan.changedServices }
}
