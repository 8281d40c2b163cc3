/**
 * `kpe rules`: render one node's (or every node's) iptables rules from manifests, as
 * restore input or as iptables-save would print them; optionally as a partial sync since an
 * earlier state. With `--mode nftables`, the `nft -f` transaction of a full sync instead.
 */
import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import type { IPFamily } from '../net/index.js'
import { clusterFamilies, clusterObjects } from '../proxy/model/index.js'
import { buildAllNodesNftRules, buildAllNodesRules, buildNodeRules, buildNodeRulesSince } from '../proxy/node-rules/index.js'
import { renderNftablesSaved } from '../proxy/nftables/index.js'
import { proxierInputFromFile } from './vector-config.js'
import { bothModesForNode, nftRulesForNode } from './rules-nftables.js'
import { describeOrigin, diffRuleTables, renderRuleDiff, savedView, servicePortFromComment, servicePortFromOrigins, type Provenance } from '../proxy/iptables/index.js'
import { parseIptablesSave, renderIptablesRestore, renderIptablesSave } from '../proxy/netfilter/index.js'
import { fetchFromAgents } from './agents-client.js'
import { readManifests, readText, ruleInputs } from './read-inputs.js'
import { readClusterInputs, restClientFor, watchClusterInputs, type ClusterInputs } from './attach-cluster.js'

export const rulesHelp = `usage: kpe rules -f FILE [-f FILE ...] [flags]

Prints the rules upstream kube-proxy (iptables or nftables mode) would load on a node.

  -f, --filename FILE   manifests (YAML/JSON, multi-document, Lists); repeatable; - for stdin
  --config FILE         KubeProxyConfiguration, or a golden vector's config.yaml
  --node NAME           the node to render for (default: the config's node, else the first Node)
  --all-nodes           render every Node in the manifests, one after another
  --ip-family 4|6       which proxier to render (default: the clusterCIDR's first family, else 4)
  --mode MODE           iptables, nftables or both (default: the config's mode, else iptables);
                        nftables prints the \`nft -f\` text of the table a sync leaves; both prints
                        each Service port's rules in the two modes, one after the other
  --as-saved            print what iptables-save (nftables: nft list table) shows after loading
  --since FILE          partial sync: only Services changed since the state in FILE get their chains
                        rewritten, and chains that FILE's rules had but these do not are deleted (repeatable)
  --full-sync           with --since: a full sync (every chain written), still deleting stale chains
  --explain             print before each rule a # line naming the object and field that produced it
  --live                the current rules of --node in a running \`kpe up\` (found through --data-dir)
  --data-dir DIR        with --live: the data dir of \`kpe up\` (default .kpe)
  --diff                show what a change did, grouped by Service: -f BEFORE... -f2 AFTER...
                        (--after is the same as -f2), or two dumps: --rules BEFORE --rules2 AFTER
  --kubeconfig FILE     read Services, EndpointSlices, Nodes and the kube-proxy ConfigMap from a running
                        cluster instead of -f (read-only); with --diff --rules DUMP: what the cluster's
                        objects say a node should have versus that node's iptables-save DUMP
  --context NAME        with --kubeconfig: the context to use (default: current-context)
  --watch               with --kubeconfig: render again after every change, until interrupted
`

/** `attached`: inputs already read from a cluster (attach mode's --watch renders each snapshot). */
export async function runRulesCommand(argv: string[], attached?: ClusterInputs): Promise<string> {
  const { values } = parseArgs({
    // `-f2 FILE` reads as the after side of --diff (parseArgs would take it as -f with value "2").
    args: argv.map((a) => (a === '-f2' ? '--after' : a)),
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      config: { type: 'string' },
      node: { type: 'string' },
      'all-nodes': { type: 'boolean' },
      'ip-family': { type: 'string' },
      mode: { type: 'string' },
      'as-saved': { type: 'boolean' },
      since: { type: 'string', multiple: true },
      'full-sync': { type: 'boolean' },
      explain: { type: 'boolean' },
      diff: { type: 'boolean' },
      after: { type: 'string', multiple: true },
      rules: { type: 'string' },
      rules2: { type: 'string' },
      live: { type: 'boolean' },
      'data-dir': { type: 'string' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      watch: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) return rulesHelp
  if (values.live) {
    if (!values.node) throw new UsageError('--live needs --node NAME')
    return fetchFromAgents(values['data-dir'], `/rules/${encodeURIComponent(values.node)}`)
  }
  if (values.kubeconfig === undefined && (values.context !== undefined || values.watch)) throw new UsageError(`--${values.watch ? 'watch' : 'context'} needs --kubeconfig FILE`)
  if (values.kubeconfig !== undefined && attached === undefined) {
    if (values.filename !== undefined) throw new UsageError('-f and --kubeconfig exclude each other: the objects come from one place')
    const client = restClientFor(values)
    if (values.watch) {
      return watchClusterInputs(client, (inputs) => {
        runRulesCommand(argv, inputs).then((out) => process.stdout.write(`# kpe: ${new Date().toISOString()}\n${out}`), (e: unknown) => process.stderr.write(`kpe rules: ${e instanceof Error ? e.message : String(e)}\n`))
      })
    }
    attached = await readClusterInputs(client)
  }
  if (values.diff && values.rules !== undefined && attached !== undefined) {
    if (!values.node) throw new UsageError('--diff --rules DUMP --kubeconfig needs --node NAME (the node the dump was taken on)')
    const { configFile } = ruleInputs(undefined, values.config, attached)
    const config = configFile ? proxierInputFromFile(configFile) : undefined
    const dump = parseIptablesSave(readText(values.rules), { source: values.rules })
    const { table } = buildNodeRules({ manifests: attached.manifests, ...config, nodeName: values.node, ipFamily: dump.family })
    // Both sides in the kernel's saved form, read back: a difference is a rule, not a spelling.
    const expected = parseIptablesSave(renderIptablesSave(savedView(table)), { source: `node ${values.node} from the cluster` })
    return renderRuleDiff(diffRuleTables(expected, dump, { before: servicePortFromComment, after: servicePortFromComment }))
  }
  if (values.diff && values.rules !== undefined) {
    if (values.rules2 === undefined) throw new UsageError('--diff --rules BEFORE needs --rules2 AFTER')
    // Dumps carry no origins: their Service ports come from kube-proxy's comments (dump-comments.ts).
    const dumps = { before: servicePortFromComment, after: servicePortFromComment }
    return renderRuleDiff(diffRuleTables(parseIptablesSave(readText(values.rules), { source: values.rules }), parseIptablesSave(readText(values.rules2), { source: values.rules2 }), dumps))
  }
  if (values.diff && !values.after) throw new UsageError('--diff needs the after side', { hint: 'kpe rules --diff -f before.yaml -f2 after.yaml' })
  const { manifests, configFile } = ruleInputs(values.filename, values.config, attached)
  const config = configFile ? proxierInputFromFile(configFile) : undefined
  const family = parseFamily(values['ip-family']) ?? config?.overrides?.ipFamily ?? clusterFamilies(config?.kubeProxyConfiguration.clusterCIDR)[0]!
  const mode = parseMode(values.mode) ?? (config?.kubeProxyConfiguration.mode === 'nftables' ? 'nftables' : 'iptables')
  if (mode === 'both') {
    const unsupported = (['as-saved', 'since', 'full-sync', 'explain', 'diff'] as const).filter((f) => values[f] !== undefined)
    if (unsupported.length > 0) throw new UsageError(`--${unsupported[0]} does not apply to --mode both`, { hint: 'pick one mode for it: --mode iptables or --mode nftables' })
  }
  if (values['full-sync'] && !values.since) throw new UsageError('--full-sync needs --since FILE', { hint: 'without --since every sync is full already' })
  if (values['all-nodes'] && values.node) throw new UsageError('--all-nodes and --node exclude each other')
  const nodes = values['all-nodes'] ? clusterObjects(manifests).nodes.map((n) => n.metadata.name ?? '') : [values.node]
  if (nodes.length === 0) throw new UsageError('--all-nodes: the manifests hold no Node')
  const before = values.since ? readManifests(values.since) : undefined
  const after = values.after ? readManifests(values.after) : undefined
  // --all-nodes shares the node-independent rule work between the nodes.
  const shareNodes = values['all-nodes'] && !before && !after && !values.explain
  const sharedNodes = shareNodes && mode === 'iptables'
    ? new Map(buildAllNodesRules({ manifests, ...config, ipFamily: family }, nodes as string[]).map((r) => [r.nodeName, r]))
    : undefined
  const sharedNftNodes = shareNodes && mode === 'nftables'
    ? new Map(buildAllNodesNftRules({ manifests, ...config, ipFamily: family }, nodes as string[]).map((r) => [r.nodeName, r]))
    : undefined
  let out = ''
  for (const nodeName of nodes) {
    const req = { manifests, ...config, ...(nodeName ? { nodeName } : {}), ipFamily: family }
    if (mode === 'both') {
      const { text, nodeName: rendered } = bothModesForNode(req)
      out += `# kpe: node ${rendered} (${family}), iptables and nftables per Service port\n${text}`
      continue
    }
    const sharedNft = sharedNftNodes?.get(nodeName ?? '')
    if (sharedNft) {
      out += `# kpe: node ${sharedNft.nodeName} (${family})\n${values['as-saved'] ? renderNftablesSaved(sharedNft.ruleset()) : sharedNft.text}`
      continue
    }
    if (mode === 'nftables') {
      const { text, nodeName: rendered } = nftRulesForNode(req, { ...(before ? { before } : {}), ...(after ? { after } : {}), fullSync: values['full-sync'] === true, explain: values.explain === true, asSaved: values['as-saved'] === true })
      if (values['all-nodes'] || after) out += `# kpe: node ${rendered} (${family})\n`
      out += text
      continue
    }
    if (after) {
      const origins = { before: new Map() as Provenance, after: new Map() as Provenance }
      const { table: a, nodeName: rendered } = buildNodeRules({ ...req, provenance: origins.before })
      const { table: b } = buildNodeRules({ ...req, manifests: after, provenance: origins.after })
      const servicePortOf = { before: servicePortFromOrigins(origins.before), after: servicePortFromOrigins(origins.after) }
      out += `# kpe: node ${rendered} (${family})\n${renderRuleDiff(diffRuleTables(a, b, servicePortOf))}`
      continue
    }
    const shared = sharedNodes?.get(nodeName ?? '')
    if (shared) {
      out += `# kpe: node ${shared.nodeName} (${family})\n${values['as-saved'] ? renderIptablesSave(savedView(shared.table())) : shared.text}`
      continue
    }
    const provenance: Provenance | undefined = values.explain ? new Map() : undefined
    const withProvenance = { ...req, ...(provenance ? { provenance } : {}) }
    const { table, nodeName: rendered } = before ? buildNodeRulesSince(withProvenance, before, { full: values['full-sync'] === true }) : buildNodeRules(withProvenance)
    if (values['all-nodes']) out += `# kpe: node ${rendered} (${family})\n`
    out += values['as-saved'] ? renderIptablesSave(savedView(table)) : renderIptablesRestore(table, provenance ? { annotate: (r) => explainRule(provenance, r) } : {})
  }
  return out
}

function explainRule(provenance: Provenance, rule: Parameters<Provenance['get']>[0]): string | undefined {
  const origin = provenance.get(rule)
  return origin === undefined ? undefined : describeOrigin(origin)
}

function parseMode(v: string | undefined): 'iptables' | 'nftables' | 'both' | undefined {
  if (v === undefined) return undefined
  if (v === 'iptables' || v === 'nftables' || v === 'both') return v
  throw new UsageError(`--mode "${v}": expected iptables, nftables or both`)
}

function parseFamily(v: string | undefined): IPFamily | undefined {
  if (v === undefined) return undefined
  if (v === '4' || v === 'IPv4') return 'IPv4'
  if (v === '6' || v === 'IPv6') return 'IPv6'
  throw new UsageError(`--ip-family "${v}": expected 4 or 6`)
}

