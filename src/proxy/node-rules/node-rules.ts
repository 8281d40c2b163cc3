/**
 * One node's rules from a set of manifests, in either mode: the mode-neutral node input
 * (model/node-input.ts) handed to the iptables or the nftables builder. What `kpe rules`, `kpe
 * trace` and the lab compute before rendering.
 */
import type { ChainName } from '../../net/index.js'
import { buildIptablesRules, type Provenance, type SyncMode } from '../iptables/index.js'
import { nodeInputFor, type NodeInputRequest, type NodeProxierInput, type ServicePortName } from '../model/index.js'
import type { RuleTable } from '../netfilter/index.js'
import { buildNftablesRules, type NftProvenance, type NftRuleset } from '../nftables/index.js'

export interface NodeRulesRequest extends NodeInputRequest {
  readonly sync?: SyncMode
  readonly existingNatChains?: readonly ChainName[]
  readonly provenance?: Provenance
}

/** Everything `kpe rules` does before rendering: manifests -> one node's RuleTable. */
export function buildNodeRules(req: NodeRulesRequest): { table: RuleTable; input: NodeProxierInput; nodeName: string } {
  const { input, nodeName } = nodeInputFor(req)
  const table = buildIptablesRules({
    ...input,
    sync: req.sync ?? { mode: 'full' },
    existingNatChains: req.existingNatChains ?? [],
    ...(req.provenance ? { provenance: req.provenance } : {}),
  })
  return { table, input, nodeName }
}

export interface NodeNftRulesRequest extends NodeInputRequest {
  /** Flushed chains the node still holds (kept, empty, unless a Service uses them again). */
  readonly staleChains?: readonly ChainName[]
  readonly chainOwners?: Map<ChainName, ServicePortName>
  readonly provenance?: NftProvenance
}

/** The same request in nftables mode: the table the node holds after the sync. */
export function buildNodeNftRules(req: NodeNftRulesRequest): { ruleset: NftRuleset; input: NodeProxierInput; nodeName: string } {
  const { input, nodeName } = nodeInputFor(req)
  const extra = {
    ...(req.staleChains ? { staleChains: req.staleChains } : {}),
    ...(req.chainOwners ? { chainOwners: req.chainOwners } : {}),
    ...(req.provenance ? { provenance: req.provenance } : {}),
  }
  return { ruleset: buildNftablesRules({ ...input, ...extra }), input, nodeName }
}
