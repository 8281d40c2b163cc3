/**
 * `kpe rules` in nftables mode for one node: the table a sync leaves (or, with --since, the sync's
 * transaction), `--explain` and `--diff` from typed provenance. The flags mean what they mean in
 * iptables mode; only the rendering differs.
 */
import type { ManifestSet } from '../api/index.js'
import { describeOrigin, renderRuleDiff } from '../proxy/iptables/index.js'
import { diffNftRulesets, renderNftablesTransaction, renderNftSyncTransaction, type NftProvenance, type NftRenderOptions } from '../proxy/nftables/index.js'
import { buildNodeNftSync } from '../proxy/node-nft-sync.js'
import { buildNodeNftRules, type NodeNftRulesRequest } from '../proxy/node-rules.js'

export interface NftRulesFlags {
  readonly before?: ManifestSet
  readonly after?: ManifestSet
  readonly fullSync: boolean
  readonly explain: boolean
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
    return { text: renderNftSyncTransaction(sync, opts), nodeName: sync.nodeName }
  }
  const { ruleset, nodeName } = buildNodeNftRules(withProvenance)
  return { text: renderNftablesTransaction(ruleset, opts), nodeName }
}
