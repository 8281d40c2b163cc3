/**
 * `kpe rules`: render one node's (or every node's) iptables rules from manifests, as
 * restore input or as iptables-save would print them; optionally as a partial sync since an
 * earlier state. With `--mode nftables`, the `nft -f` transaction of a full sync instead.
 */
import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import type { IPFamily } from '../net/index.js'
import { clusterFamilies, clusterObjects } from '../proxy/model/index.js'
import { buildNodeNftRules, buildNodeRules } from '../proxy/node-rules.js'
import { buildNodeRulesSince } from '../proxy/node-sync-rules.js'
import { proxierInputFromFile } from './vector-config.js'
import { renderNftablesTransaction, renderNftSyncTransaction } from '../proxy/nftables/index.js'
import { buildNodeNftSync } from '../proxy/node-nft-sync.js'
import { describeOrigin, diffRuleTables, renderRuleDiff, savedView, servicePortFromComment, servicePortFromOrigins, type Provenance } from '../proxy/iptables/index.js'
import { parseIptablesSave, renderIptablesRestore, renderIptablesSave } from '../proxy/netfilter/index.js'
import { fetchFromAgents } from './agents-client.js'
import { readConfig, readManifests, readText } from './read-inputs.js'

export const rulesHelp = `usage: kpe rules -f FILE [-f FILE ...] [flags]

Prints the rules upstream kube-proxy (iptables or nftables mode) would load on a node.

  -f, --filename FILE   manifests (YAML/JSON, multi-document, Lists); repeatable; - for stdin
  --config FILE         KubeProxyConfiguration, or a golden vector's config.yaml
  --node NAME           the node to render for (default: the config's node, else the first Node)
  --all-nodes           render every Node in the manifests, one after another
  --ip-family 4|6       which proxier to render (default: the clusterCIDR's first family, else 4)
  --mode MODE           iptables or nftables (default: the config's mode, else iptables); nftables
                        prints the \`nft -f\` transaction of a full sync on a fresh node
  --as-saved            print what iptables-save shows after loading (jump rules and canaries included)
  --since FILE          partial sync: only Services changed since the state in FILE get their chains
                        rewritten, and chains that FILE's rules had but these do not are deleted (repeatable)
  --full-sync           with --since: a full sync (every chain written), still deleting stale chains
  --explain             print before each rule a # line naming the object and field that produced it
  --live                the current rules of --node in a running \`kpe up\` (found through --data-dir)
  --data-dir DIR        with --live: the data dir of \`kpe up\` (default .kpe)
  --diff                show what a change did, grouped by Service: -f BEFORE... -f2 AFTER...
                        (--after is the same as -f2), or two dumps: --rules BEFORE --rules2 AFTER
`

export async function runRulesCommand(argv: string[]): Promise<string> {
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
  if (values.diff && values.rules !== undefined) {
    if (values.rules2 === undefined) throw new UsageError('--diff --rules BEFORE needs --rules2 AFTER')
    // Dumps carry no origins: their Service ports come from kube-proxy's comments (dump-comments.ts).
    const dumps = { before: servicePortFromComment, after: servicePortFromComment }
    return renderRuleDiff(diffRuleTables(parseIptablesSave(readText(values.rules), { source: values.rules }), parseIptablesSave(readText(values.rules2), { source: values.rules2 }), dumps))
  }
  if (values.diff && !values.after) throw new UsageError('--diff needs the after side', { hint: 'kpe rules --diff -f before.yaml -f2 after.yaml' })
  const manifests = readManifests(values.filename ?? [])
  const configFile = readConfig(values.config, manifests)
  const config = configFile ? proxierInputFromFile(configFile) : undefined
  const family = parseFamily(values['ip-family']) ?? config?.overrides?.ipFamily ?? clusterFamilies(config?.kubeProxyConfiguration.clusterCIDR)[0]!
  const mode = parseMode(values.mode) ?? (config?.kubeProxyConfiguration.mode === 'nftables' ? 'nftables' : 'iptables')
  if (mode === 'nftables') {
    const unsupported = (['as-saved', 'explain', 'diff'] as const).filter((f) => values[f] !== undefined)
    if (unsupported.length > 0) {
      throw new UsageError(`--${unsupported[0]} is not available in nftables mode`, { hint: 'use --mode iptables, or drop the flag' })
    }
  }
  if (values['full-sync'] && !values.since) throw new UsageError('--full-sync needs --since FILE', { hint: 'without --since every sync is full already' })
  if (values['all-nodes'] && values.node) throw new UsageError('--all-nodes and --node exclude each other')
  const nodes = values['all-nodes'] ? clusterObjects(manifests).nodes.map((n) => n.metadata.name ?? '') : [values.node]
  if (nodes.length === 0) throw new UsageError('--all-nodes: the manifests hold no Node')
  const before = values.since ? readManifests(values.since) : undefined
  const after = values.after ? readManifests(values.after) : undefined
  let out = ''
  for (const nodeName of nodes) {
    const req = { manifests, ...config, ...(nodeName ? { nodeName } : {}), ipFamily: family }
    if (mode === 'nftables') {
      const sync = before ? buildNodeNftSync(req, before, { full: values['full-sync'] === true }) : undefined
      const { ruleset, nodeName: rendered } = sync ? { ruleset: sync.after, nodeName: sync.nodeName } : buildNodeNftRules(req)
      if (values['all-nodes']) out += `# kpe: node ${rendered} (${family})\n`
      out += sync ? renderNftSyncTransaction(sync) : renderNftablesTransaction(ruleset)
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

function parseMode(v: string | undefined): 'iptables' | 'nftables' | undefined {
  if (v === undefined) return undefined
  if (v === 'iptables' || v === 'nftables') return v
  throw new UsageError(`--mode "${v}": expected iptables or nftables`)
}

function parseFamily(v: string | undefined): IPFamily | undefined {
  if (v === undefined) return undefined
  if (v === '4' || v === 'IPv4') return 'IPv4'
  if (v === '6' || v === 'IPv6') return 'IPv6'
  throw new UsageError(`--ip-family "${v}": expected 4 or 6`)
}

