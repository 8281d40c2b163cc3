/**
 * `kpe rules` in nftables mode for one node: the table a sync leaves (or, with --since, the sync's
 * transaction), `--explain` and `--diff` from typed provenance. The flags mean what they mean in
 * iptables mode; only the rendering differs.
 */
import { defaultKubeProxyConfiguration, type ManifestSet } from '../api/index.js'
import { describeOrigin, renderRuleDiff } from '../proxy/iptables/index.js'
import { diffNftRulesets, renderNftablesSaved, renderNftablesTransaction, renderNftSyncTransaction, type NftProvenance, type NftRenderOptions } from '../proxy/nftables/index.js'
import { buildNodeNftRules, buildNodeNftSync, buildNodeRules, compareModes, renderModeComparison, type NodeNftRulesRequest, type NodeRulesRequest } from '../proxy/node-rules/index.js'
import type { Provenance } from '../proxy/iptables/index.js'

export interface NftRulesFlags {
  readonly before?: ManifestSet
  readonly after?: ManifestSet
  readonly fullSync: boolean
  readonly explain: boolean
  /** The table as `nft list table` prints it after the sync (the kernel's saved form). */
  readonly asSaved?: boolean
}

/** `# kpe: node …` header aside, what `kpe rules --mode nftables` prints for one node. */
export function nftRulesForNode(req: NodeNftRulesRequest, flags: NftRulesFlags): { text: string; nodeName: string } {
  if (flags.after) {
    const sides = [req.manifests, flags.after].map((manifests) => {
      const provenance: NftProvenance = new Map()
      const built = buildNodeNftRules({ ...req, manifests, provenance })
      return { ruleset: built.ruleset, provenance, nodeName: built.nodeName }
    })
    return { text: renderRuleDiff(diffNftRulesets(sides[0]!, sides[1]!)), nodeName: sides[0]!.nodeName }
  }
  const provenance: NftProvenance | undefined = flags.explain ? new Map() : undefined
  const withProvenance = { ...req, ...(provenance ? { provenance } : {}) }
  const opts: NftRenderOptions = provenance ? { annotate: (o) => { const origin = provenance.get(o); return origin === undefined ? undefined : describeOrigin(origin) } } : {}
  if (flags.before) {
    const sync = buildNodeNftSync(withProvenance, flags.before, { full: flags.fullSync })
    return { text: flags.asSaved ? renderNftablesSaved(sync.after) : renderNftSyncTransaction(sync, opts), nodeName: sync.nodeName }
  }
  const { ruleset, nodeName } = buildNodeNftRules(withProvenance)
  return { text: flags.asSaved ? renderNftablesSaved(ruleset) : renderNftablesTransaction(ruleset, opts), nodeName }
}

/** The request with its KubeProxyConfiguration read in the given mode (its section, its NodePort default). */
function inMode<R extends NodeNftRulesRequest>(req: R, mode: 'iptables' | 'nftables'): R {
  return { ...req, kubeProxyConfiguration: { ...(req.kubeProxyConfiguration ?? defaultKubeProxyConfiguration()), mode } }
}

/** `kpe rules --mode both`: the node's full sync in each mode, grouped per Service port. */
export function bothModesForNode(req: NodeRulesRequest & NodeNftRulesRequest): { text: string; nodeName: string } {
  const iptProvenance: Provenance = new Map()
  const nftProvenance: NftProvenance = new Map()
  const ipt = buildNodeRules({ ...inMode(req, 'iptables'), sync: { mode: 'full' }, existingNatChains: [], provenance: iptProvenance })
  const nft = buildNodeNftRules({ ...inMode(req, 'nftables'), provenance: nftProvenance })
  return { text: renderModeComparison(compareModes({ table: ipt.table, provenance: iptProvenance }, { ruleset: nft.ruleset, provenance: nftProvenance })), nodeName: ipt.nodeName }
}
