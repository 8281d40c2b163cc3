/**
 * One node's rules from a set of manifests, in either mode: the mode-neutral node input
 * (model/node-input.ts) handed to the iptables or the nftables builder. What `kpe rules`, `kpe
 * trace` and the lab compute before rendering.
 */
import type { ProxierConfigFile } from '../api/index.js'
import { chainName, type ChainName, type Cidr } from '../net/index.js'
import { buildIptablesRules, type Provenance, type SyncMode } from './iptables/index.js'
import { nodeInputFor, type NodeInputRequest, type NodeProxierInput } from './model/index.js'
import type { RuleTable } from './netfilter/index.js'
import { buildNftablesRules, type NftRuleset } from './nftables/index.js'

/** The sync a vectors' config.yaml describes, as builder input. */
export function syncFromConfigFile(file: ProxierConfigFile | undefined): { sync: SyncMode; existingNatChains: ChainName[] } {
  const s = file?.sync
  if (!s) return { sync: { mode: 'full' }, existingNatChains: [] }
  return {
    sync: s.mode === 'partial' ? { mode: 'partial', changedServices: new Set(s.changedServices) } : { mode: 'full' },
    existingNatChains: s.existingNatServiceChains.map(chainName),
  }
}

export interface NodeRulesRequest extends NodeInputRequest {
  readonly sync?: SyncMode
  readonly existingNatChains?: readonly ChainName[]
  readonly provenance?: Provenance
}

/** Everything `kpe rules` does before rendering: manifests -> one node's RuleTable. */
export function buildNodeRules(req: NodeRulesRequest): { table: RuleTable; input: NodeProxierInput; nodeName: string } {
  const { input, nodeName } = nodeInputFor(req)
  const fromFile = syncFromConfigFile(req.configFile)
  const table = buildIptablesRules({
    ...input,
    sync: req.sync ?? fromFile.sync,
    existingNatChains: req.existingNatChains ?? fromFile.existingNatChains,
    ...(req.provenance ? { provenance: req.provenance } : {}),
  })
  return { table, input, nodeName }
}

/** The same request in nftables mode (a full sync on a fresh node: nftables has no partial syncs yet). */
export function buildNodeNftRules(req: NodeInputRequest & { readonly serviceCIDRs?: readonly Cidr[] }): { ruleset: NftRuleset; input: NodeProxierInput; nodeName: string } {
  const { input, nodeName } = nodeInputFor(req)
  return { ruleset: buildNftablesRules({ ...input, ...(req.serviceCIDRs ? { serviceCIDRs: req.serviceCIDRs } : {}) }), input, nodeName }
}
