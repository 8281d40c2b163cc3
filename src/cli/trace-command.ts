/**
 * `kpe trace`: where does a packet go on a node, and why. Rules come from manifests (built as
 * `kpe rules` builds them, plus kube-proxy's jumps from the built-in chains) or from a real
 * node's `iptables-save` dump or `nft list ruleset` output (--rules). The mode is the config's
 * (or the dump's), unless --mode says otherwise.
 */
import { parseArgs } from 'node:util'
import { parseDocument } from 'yaml'
import { InputError, UsageError } from '../errors.js'
import { bigIntToIP, ipFamily, parseCidr, parseIP, type IPFamily } from '../net/index.js'
import { savedView, type Provenance } from '../proxy/iptables/index.js'
import { buildNodeNftRules, buildNodeRules } from '../proxy/node-rules/index.js'
import { renderNftablesTransaction } from '../proxy/nftables/index.js'
import { isNftText, nftDocumentOfText } from './nft-text.js'
import { proxierInputFromFile } from './vector-config.js'
import { clusterObjects } from '../proxy/model/index.js'
import { parseIptablesSave } from '../proxy/netfilter/index.js'
import { meaningFromComments, meaningFromOrigins, packetOf, podIndex, renderTraceText, resolveDestination, resolveSource, traceJson, traceNftRules, traceRules, type TraceObjects } from '../proxy/trace/index.js'
import { readText, ruleInputs } from './read-inputs.js'
import { readClusterInputs, restClientFor, type ClusterInputs } from './attach-cluster.js'
import { traceLive } from './trace-live.js'

export const traceHelp = `usage: kpe trace -f FILE [--config FILE] [--node NODE] --from SOURCE --to DEST [-o json]
       kpe trace --live [--data-dir DIR] [--node NODE] --from SOURCE --to DEST [-o json]
       kpe trace --rules DUMP --local-ip IP [--local-ip IP ...] --from IP --to IP:PORT[/PROTO] [-o json]

Explains where a new connection goes on a node: each rule it meets, then every possible outcome
with its probability (which pod, whether the source is masqueraded, or why it is dropped).

  --from pod/[NS/]NAME | node/NAME | IP    the sender; an IP that is neither a node nor a pod is an
                                          external host entering through --node
  --to IP:PORT | svc/[NS/]NAME[:PORT] | NAME.NS.svc.cluster.local[:PORT]   with optional /tcp|/udp|/sctp
  --node NODE         the node whose rules to use (default: the sender's node)
  -n, --namespace NS  namespace for pod/ and svc/ names without one (default "default")
  --live              trace a running \`kpe up\`: its objects from the API server, --node's current rules
  --data-dir DIR      with --live: the data dir of \`kpe up\` (default .kpe)
  --rules DUMP        trace through an iptables-save dump, or an nftables one (nft list ruleset
                      output or nft -f input), instead of manifests
  --mode MODE         iptables or nftables (default: the config's mode, or what the dump is)
  --local-ip IP       with --rules: the node's own addresses (for -m addrtype LOCAL); repeatable
  --config FILE       with --rules: a vector's config.yaml; its tracer.localIPs count as --local-ip
  --kubeconfig FILE   read Services, EndpointSlices, Nodes, Pods and the kube-proxy ConfigMap from a
                      running cluster instead of -f (read-only)
  --context NAME      with --kubeconfig: the context to use (default: current-context)
  -o, --output json   machine-readable; "output" and "masq" are upstream's tracer answer
`

export function runTraceCommand(argv: string[]): string | Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      config: { type: 'string' },
      node: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      from: { type: 'string' },
      to: { type: 'string' },
      rules: { type: 'string' },
      'local-ip': { type: 'string', multiple: true },
      mode: { type: 'string' },
      output: { type: 'string', short: 'o' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      live: { type: 'boolean' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) return traceHelp
  if (!values.from || !values.to) throw new UsageError('both --from and --to are needed', { hint: "see 'kpe trace --help'" })
  if (values.output !== undefined && values.output !== 'json') throw new UsageError(`-o ${values.output}: only json is supported`)
  const format = (report: ReturnType<typeof traceRules>): string => (values.output === 'json' ? `${JSON.stringify(traceJson(report), null, 2)}\n` : renderTraceText(report))
  const mode = parseMode(values.mode)
  if (values.live) {
    return traceLive({ dataDir: values['data-dir'], from: values.from, to: values.to, node: values.node, namespace: values.namespace ?? 'default' }).then(format)
  }
  if (values.kubeconfig !== undefined) {
    if (values.filename !== undefined || values.rules !== undefined) throw new UsageError('--kubeconfig excludes -f and --rules: the objects come from one place')
    return readClusterInputs(restClientFor(values), { withPods: true }).then((inputs) => format(traceManifests({ ...values, mode }, inputs)))
  }
  if (values.context !== undefined) throw new UsageError('--context needs --kubeconfig FILE')
  return format(values.rules !== undefined ? traceDump(values.rules, mode, dumpLocalIPs(values['local-ip'] ?? [], values.config), values.from, values.to, values.node) : traceManifests({ ...values, mode }))
}

/**
 * The node's own addresses for a dump trace: every --local-ip, plus the config file's
 * tracer.localIPs (an upstream vector's config names them; without them, rows whose source or
 * destination is a node address trace as if it came from outside). A dump trace reads nothing
 * else from the file, so a vector config with only a tracer section (trace-packet) is fine.
 */
function dumpLocalIPs(flags: readonly string[], configFile: string | undefined): string[] {
  return [...new Set([...flags, ...(configFile === undefined ? [] : tracerLocalIPs(readText(configFile), configFile))])]
}

export function tracerLocalIPs(text: string, file: string): string[] {
  let value: unknown
  try {
    const doc = parseDocument(text)
    if (doc.errors[0]) throw new InputError({ file }, `malformed YAML: ${doc.errors[0].message.split('\n')[0]}`)
    value = doc.toJS({ maxAliasCount: 100 })
  } catch (err) {
    if (err instanceof InputError) throw err
    throw new InputError({ file }, `malformed YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError({ file }, 'expected a mapping (a KubeProxyConfiguration or a vector config.yaml)')
  const tracer = (value as Record<string, unknown>)['tracer']
  if (tracer === undefined) return []
  const list = typeof tracer === 'object' && tracer !== null ? (tracer as Record<string, unknown>)['localIPs'] : undefined
  if (!Array.isArray(list)) throw new InputError({ file, field: 'tracer.localIPs' }, 'expected a list of IP addresses')
  return list.map((ip, i) => {
    const parsed = typeof ip === 'string' ? parseIP(ip) : undefined
    if (parsed === undefined) throw new InputError({ file, field: `tracer.localIPs[${i}]` }, `${JSON.stringify(ip)} is not an IP address`)
    return parsed
  })
}

function parseMode(v: string | undefined): 'iptables' | 'nftables' | undefined {
  if (v === undefined || v === 'iptables' || v === 'nftables') return v
  throw new UsageError(`--mode "${v}": expected iptables or nftables`)
}

function traceDump(file: string, mode: 'iptables' | 'nftables' | undefined, localIPs: string[], from: string, to: string, node: string | undefined) {
  const text = readText(file)
  const nft = mode === 'nftables' || (mode === undefined && isNftText(text))
  const doc = nft ? nftDocumentOfText(text, file) : undefined
  const table = nft ? undefined : parseIptablesSave(text, { source: file })
  const family: IPFamily = table?.family ?? (doc?.tables.some((t) => t.family === 'ip6') && !doc.tables.some((t) => t.family === 'ip') ? 'IPv6' : 'IPv4')
  const empty: TraceObjects = { services: [], pods: [], nodes: [] }
  const dst = resolveDestination(to, empty, family, 'default')
  const src = resolveSource(from, empty, family, node, 'default')
  const local = new Set(localIPs.map((ip) => parseIP(ip) ?? ip))
  const tc = {
    node: node ?? file,
    ctx: { localAddresses: local },
    origin: local.has(src.ip) ? 'local' as const : 'external' as const,
    from: src.describe,
    to: dst.describe,
    podOf: () => undefined,
    masqueradeAddress: () => undefined,
  }
  if (doc) return traceNftRules(doc, packetOf(src, dst), tc)
  // A real node's dump has no builder origins: its comments are all there is (dump-comments.ts).
  return traceRules(table!, packetOf(src, dst), { ...tc, explain: meaningFromComments })
}

function traceManifests(values: { filename?: string[]; config?: string; node?: string; namespace?: string; from?: string; to?: string; mode: 'iptables' | 'nftables' | undefined }, attached?: ClusterInputs) {
  const { manifests, configFile } = ruleInputs(values.filename, values.config, attached)
  const config = configFile ? proxierInputFromFile(configFile) : undefined
  const objects = clusterObjects(manifests)
  const traceObjects: TraceObjects = { services: objects.services, pods: manifests.pods.map((l) => l.object), nodes: objects.nodes }
  const ns = values.namespace ?? 'default'
  const family = familyOf(values.to!) ?? familyOf(values.from!) ?? config?.overrides?.ipFamily ?? 'IPv4'
  const dst = resolveDestination(values.to!, traceObjects, family, ns)
  const src = resolveSource(values.from!, traceObjects, ipFamily(dst.ip), values.node, ns)
  const nodeName = values.node ?? src.node
  if (nodeName === undefined && objects.nodes.length !== 1 && !config?.overrides?.nodeName) {
    throw new UsageError(`${src.describe} is not on any node: say which node it enters through`, { hint: 'add --node NODE' })
  }
  const mode = values.mode ?? (configFile?.kubeProxyConfiguration.mode === 'nftables' ? 'nftables' : 'iptables')
  const req = { manifests, ...config, ...(nodeName ? { nodeName } : {}), ipFamily: ipFamily(dst.ip) }
  const provenance: Provenance = new Map()
  const built = mode === 'nftables' ? buildNodeNftRules(req) : buildNodeRules({ ...req, provenance })
  const resolved = built.input.config
  const node = objects.nodes.find((n) => n.metadata.name === built.nodeName)
  const podCIDR = (node?.spec?.podCIDRs ?? (node?.spec?.podCIDR ? [node.spec.podCIDR] : [])).map((c) => parseCidr(c)).find((c) => c?.family === ipFamily(dst.ip))
  // A bridge CNI gives the node the first address of its pod CIDR: MASQUERADE toward a local pod picks it.
  const gateway = podCIDR ? bigIntToIP(podCIDR.network + 1n, podCIDR.family) : undefined
  const localAddresses = new Set<string>(configFile?.tracerLocalIPs ?? [...resolved.interfaceAddresses, ...(gateway ? [gateway] : [])])
  const isLocal = src.origin === 'local' || localAddresses.has(src.ip)
  const tc = {
    node: built.nodeName,
    ctx: { localAddresses },
    origin: isLocal ? 'local' as const : 'external' as const,
    from: src.describe,
    to: dst.describe,
    podOf: podIndex(objects.endpointSlices),
    masqueradeAddress: (address: string) => (podCIDR && parseCidr(`${address}/${podCIDR.family === 'IPv4' ? 32 : 128}`) && inCidr(podCIDR, address) ? gateway : resolved.nodeIP),
  }
  // nftables: traced through the text nft -f would load, parsed back, as the kernel would hold it.
  if ('ruleset' in built) return traceNftRules(nftDocumentOfText(renderNftablesTransaction(built.ruleset), `${built.nodeName} nftables rules`), packetOf(src, dst), tc)
  return traceRules(savedView(built.table, provenance), packetOf(src, dst), { ...tc, explain: meaningFromOrigins(provenance) })
}

function inCidr(c: NonNullable<ReturnType<typeof parseCidr>>, address: string): boolean {
  const probe = parseCidr(`${address}/${c.prefix}`)
  return probe !== undefined && probe.family === c.family && probe.network === c.network
}

function familyOf(spec: string): IPFamily | undefined {
  const host = spec.replace(/\/(tcp|udp|sctp)$/i, '').replace(/^\[([^\]]+)\].*$/, '$1')
  const candidate = host.includes('.') && !host.includes(':') ? host.split(':')[0]! : host
  const ip = parseIP(candidate)
  return ip ? ipFamily(ip) : undefined
}
