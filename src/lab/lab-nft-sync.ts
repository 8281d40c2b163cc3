/**
 * nftables mode in the lab: every node's ruleset (kube-proxy's nftables mode, as `kpe rules
 * --mode nftables` builds it) written into the node's namespace through NftKernelExecutor, one
 * atomic full-sync transaction per node and IP family.
 */
import { ExecError, NotFoundError } from '../errors.js'
import { clusterObjects } from '../proxy/model/index.js'
import { buildNodeNftRules } from '../proxy/node-rules/index.js'
import { labRunner } from './lab-executor.js'
import type { LabNodeSync, LabSyncRequest } from './lab-proxier.js'
import { labFamilies } from './lab-rules.js'
import type { LabState } from './lab-state.js'
import { fullSyncTransaction, NftKernelExecutor } from './nft-kernel-executor.js'

/** Writes every node's nftables ruleset for `req.manifests` (full syncs; see docs/differences.md). */
export async function syncLabNftables(state: LabState, req: LabSyncRequest): Promise<LabNodeSync[]> {
  const plan = state.plan
  if (!plan) throw new NotFoundError(`lab ${state.prefix} has no plan recorded`)
  const objects = clusterObjects(req.manifests)
  const services = objects.services.map((s) => `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`).sort()
  const runs = plan.nodes.flatMap((n) => labFamilies(req.config).map((family) => ({ node: n, family })))
  return Promise.all(runs.map(async ({ node, family }): Promise<LabNodeSync> => {
    const { ruleset } = buildNodeNftRules({ manifests: req.manifests, ...req.config, nodeName: node.name, ipFamily: family })
    const executor = new NftKernelExecutor({ run: labRunner(state, node.netns) })
    try {
      await executor.apply(fullSyncTransaction(ruleset))
    } catch (err) {
      throw new ExecError(`nft -f (node ${node.name}, ${family})`, null, err instanceof Error ? err.message : String(err))
    }
    return { node: node.name, family, mode: 'full', changed: services, failures: 0 }
  }))
}
