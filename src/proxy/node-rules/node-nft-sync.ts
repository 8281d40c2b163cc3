/**
 * One node's nftables sync since an earlier set of manifests: the table the node held after a
 * full sync of `before` (plus the stale chains it still held), the net change planNodeSync gives,
 * the stale-chain step, and the table after. What `kpe rules --since --mode nftables` prints.
 */
import type { ManifestSet } from '../../api/index.js'
import type { ChainName } from '../../net/index.js'
import { clusterObjects, type NodeProxierInput, type ServicePortName } from '../model/index.js'
import { stepStaleChains, withStaleChains, type NftRuleset, type StaleChainsStep } from '../nftables/index.js'
import { buildNodeNftRules, type NodeNftRulesRequest } from './node-rules.js'
import { planNodeSync } from './plan-node-sync.js'

export interface NodeNftSync {
  readonly before: NftRuleset
  readonly after: NftRuleset
  readonly input: NodeProxierInput
  readonly nodeName: string
  readonly full: boolean
  readonly changedServices: ReadonlySet<string>
  /** Per-service chains of the changed Services: what a partial sync rewrites. */
  readonly rewrite: ReadonlySet<ChainName>
  readonly stale: StaleChainsStep
}

export interface NodeNftSyncOptions {
  readonly full?: boolean
  /** When this sync starts, in ms; the held stale chains (req.staleChains) went stale at `staleSince`. */
  readonly now?: number
  readonly staleSince?: number
}

export function buildNodeNftSync(req: Omit<NodeNftRulesRequest, 'chainOwners'>, before: ManifestSet, opts: NodeNftSyncOptions = {}): NodeNftSync {
  const { provenance: _ignored, ...beforeReq } = req
  const held = buildNodeNftRules({ ...beforeReq, manifests: before }).ruleset
  const plan = planNodeSync(clusterObjects(before), clusterObjects(req.manifests), opts.full ? { full: true } : {})
  const owners = new Map<ChainName, ServicePortName>()
  const built = buildNodeNftRules({ ...req, staleChains: [], chainOwners: owners })
  const now = opts.now ?? 0
  const since = opts.staleSince ?? now
  const stale = stepStaleChains({
    held: held.chains.map((c) => c.name),
    active: new Set(built.ruleset.chains.map((c) => c.name)),
    stale: new Map((req.staleChains ?? []).map((c) => [c, since])),
    now,
  })
  const rewrite = new Set([...owners].filter(([, sp]) => plan.changedServices.has(`${sp.namespace}/${sp.name}`)).map(([c]) => c))
  return {
    before: held,
    after: withStaleChains(built.ruleset, [...stale.stale.keys()]),
    input: built.input,
    nodeName: built.nodeName,
    full: plan.sync.mode === 'full',
    changedServices: plan.changedServices,
    rewrite,
    stale,
  }
}
