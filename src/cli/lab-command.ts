/**
 * `kpe lab`: build a cluster from network namespaces and load kpe's rules into the kernel
 * (up), run commands inside it (exec), read the kernel's rules (rules), re-sync after a change
 * (sync) and remove it (down). Thin shell over src/lab; reads flags and the environment only here.
 */
import { accessSync, constants as fsConstants, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadManifestText } from '../api/index.js'
import { UsageError } from '../errors.js'
import {
  buildLabRules,
  defaultLabPrefix,
  iptablesCommand,
  labDown,
  labExec,
  labFamilies,
  labStateDir,
  labUp,
  missingLabPrerequisites,
  planLab,
  readLabState,
  resolveTarget,
  labRunner,
  saveNodeRules,
  syncLabProxiers,
  NftKernelExecutor,
  rootlessUnavailable,
  type IptablesBackend,
  type LabPlan,
  type LabProxyMode,
} from '../lab/index.js'
import { clusterObjects } from '../proxy/model/index.js'
import { readConfig, readManifests, readText } from './read-inputs.js'
import { proxierInputFromFile } from './vector-config.js'
import type { CommandResult } from './command-result.js'

export const labHelp = `usage: kpe lab <subcommand> [flags]

Builds the cluster of a manifest file from network namespaces (Linux) and loads each
node's rules into the kernel exactly as kube-proxy does: iptables-restore, or nft -f when the
KubeProxyConfiguration says mode: nftables.

  up -f FILE [--config FILE] [--backend nft|legacy] [--rootless]
                                                       create the lab (nodes, pods, external host)
  exec TARGET -- CMD...                                run CMD in pod/NAMESPACE/NAME, node/NAME or external
  rules NODE [--ip-family 4|6]                         the kernel's iptables-save (nftables mode: nft list table) on NODE
  sync -f FILE [--config FILE]                         partial restore after the manifests changed
  down                                                 remove everything up created (also after a crash)

Without root (or with --rootless) the lab lives in one user namespace whose network namespaces
are held by processes; exec, rules, sync and down enter it with nsenter. Needs unprivileged user
namespaces (unshare -rn); iptables-legacy is not available there, so iptables-nft is used.

Every subcommand takes --name PREFIX (default ${defaultLabPrefix}; 1-8 of [a-z0-9]) to pick the lab.
State lives in $KPE_LAB_STATE_DIR, else /run/kpe-lab, else $TMPDIR/kpe-lab.
`

/** Where lab state lives: $KPE_LAB_STATE_DIR, else /run/kpe-lab when writable, else $TMPDIR/kpe-lab. */
export function labStateRoot(): string {
  const fromEnv = process.env['KPE_LAB_STATE_DIR']
  if (fromEnv) return resolve(fromEnv)
  try {
    accessSync('/run', fsConstants.W_OK)
    mkdirSync('/run/kpe-lab', { recursive: true, mode: 0o700 })
    return '/run/kpe-lab'
  } catch {
    return join(tmpdir(), 'kpe-lab')
  }
}

/** The lab command as main runs it: `exec` passes on its command's exit status. */
export async function runLabCommandWithStatus(argv: string[]): Promise<string | CommandResult> {
  const [sub, ...rest] = argv
  switch (sub) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return labHelp
    case 'up':
      return labUpCommand(rest)
    case 'exec':
      return labExecCommand(rest)
    case 'rules':
      return labRulesCommand(rest)
    case 'sync':
      return labSyncCommand(rest)
    case 'down':
      return labDownCommand(rest)
    default:
      throw new UsageError(`unknown lab subcommand ${JSON.stringify(sub)}`, { hint: "run 'kpe lab --help'" })
  }
}

/** stdout only (for callers that import the command module; the exit status is main's job). */
export async function runLabCommand(argv: string[]): Promise<string> {
  const out = await runLabCommandWithStatus(argv)
  return typeof out === 'string' ? out : out.stdout
}

function parseBackend(text: string | undefined): IptablesBackend {
  if (text === undefined || text === 'nft' || text === 'legacy') return text ?? 'nft'
  throw new UsageError(`--backend ${JSON.stringify(text)}: must be nft or legacy`)
}

function requirePrerequisites(backend: IptablesBackend, mode: LabProxyMode, rootless: boolean): void {
  const tools = mode === 'nftables' ? ['nft'] : [iptablesCommand('IPv4', backend, 'iptables'), iptablesCommand('IPv4', backend, 'restore')]
  const missing = missingLabPrerequisites({ commands: [...tools, 'sysctl', 'node', ...(rootless ? ['unshare', 'nsenter'] : [])], rootless }) ?? (rootless ? rootlessUnavailable() : undefined)
  if (missing !== undefined) throw new UsageError(`cannot build a lab here: ${missing}`)
}

/**
 * The kernel keeps iptables-legacy to the initial user namespace (/proc/net/ip_tables_names is
 * not readable from a user namespace, and /run/xtables.lock belongs to the host's root), so a
 * rootless lab loads iptables rules with iptables-nft, saying so.
 */
function rootlessBackend(backend: IptablesBackend, mode: LabProxyMode): IptablesBackend {
  if (backend !== 'legacy' || mode === 'nftables') return backend
  process.stderr.write('kpe lab: iptables-legacy does not work in a user namespace (the kernel refuses /proc/net/ip_tables_names to it); this rootless lab uses iptables-nft instead\n')
  return 'nft'
}

async function labUpCommand(argv: string[]): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: { filename: { type: 'string', short: 'f', multiple: true }, config: { type: 'string' }, backend: { type: 'string' }, name: { type: 'string' }, rootless: { type: 'boolean' } },
    strict: true,
  })
  // Without root the lab is always rootless; with root, --rootless asks for the same build.
  const rootless = values.rootless === true || (typeof process.getuid === 'function' && process.getuid() !== 0)
  const prefix = values.name ?? defaultLabPrefix
  const files = values.filename ?? []
  const manifests = readManifests(files)
  const configFile = readConfig(values.config, manifests)
  const config = configFile ? proxierInputFromFile(configFile) : undefined
  const rules = buildLabRules(manifests, config)
  const mode: LabProxyMode = config?.kubeProxyConfiguration?.mode === 'nftables' ? 'nftables' : 'iptables'
  const requested = parseBackend(values.backend)
  const backend = rootless ? rootlessBackend(requested, mode) : requested
  const objects = clusterObjects(manifests)
  const localhostNodePorts = rules.some((r) => r.input.config.localhostNodePorts)
  const plan = planLab({ nodes: objects.nodes, pods: manifests.pods.map((l) => l.object), endpointSlices: objects.endpointSlices }, { prefix, localhostNodePorts })
  requirePrerequisites(backend, mode, rootless)
  const state = await labUp({
    plan,
    backend,
    mode,
    rootless,
    families: labFamilies(config),
    stateDir: labStateDir(labStateRoot(), prefix),
    program: (s) => syncLabProxiers(s, { manifests, config }),
    manifestFiles: files.map((f) => resolve(f)),
    ...(values.config ? { configFile: resolve(values.config) } : {}),
    manifestText: files.map((f) => readText(f)).join('\n---\n'),
  })
  const loader = mode === 'nftables' ? 'nftables (nft -f)' : `iptables-${backend}`
  return describePlan(plan, rootless ? `${loader}, rootless: one user namespace held by pid ${state.rootless?.holders[plan.namespaces[0]!]}` : loader, state.stateDir)
}

export function describePlan(plan: LabPlan, loader: string, stateDir: string): string {
  const lines = [`lab ${plan.prefix} is up (${loader}; state in ${stateDir})`, '', 'nodes:']
  for (const n of plan.nodes) lines.push(`  node/${n.name.padEnd(24)} ${n.address.padEnd(15)} pods ${n.podCIDR.padEnd(16)} netns ${n.netns}`)
  lines.push('pods:')
  for (const p of plan.pods) {
    const ports = p.ports.map((x) => `${x.port}/${x.protocol}`).join(',') || (p.isClient ? 'client' : '-')
    lines.push(`  pod/${p.key.padEnd(40)} ${p.address.padEnd(15)} on ${p.node.padEnd(10)} ${ports}`)
  }
  lines.push(`external: netns ${plan.external.netns}; each source address is routed via one node:`)
  for (const c of plan.external.clients) lines.push(`  ${c.address.padEnd(15)} ${c.kind.padEnd(8)} via ${c.via}`)
  for (const s of plan.skipped) lines.push(`skipped: ${s}`)
  const client = plan.pods.find((p) => p.isClient)
  lines.push('', `try: kpe lab exec ${client ? `pod/${client.key}` : 'external'} --name ${plan.prefix} -- curl -s http://SERVICE-IP:PORT/`, '')
  return lines.join('\n')
}

function splitDashDash(argv: string[]): [string[], string[]] {
  const i = argv.indexOf('--')
  return i < 0 ? [argv, []] : [argv.slice(0, i), argv.slice(i + 1)]
}

async function labExecCommand(argv: string[]): Promise<CommandResult> {
  const [flags, command] = splitDashDash(argv)
  const { values, positionals } = parseArgs({ args: flags, options: { name: { type: 'string' } }, strict: true, allowPositionals: true })
  const target = positionals[0]
  if (target === undefined || positionals.length > 1) throw new UsageError('kpe lab exec needs one TARGET', { hint: 'kpe lab exec pod/NAMESPACE/NAME -- curl -s http://10.96.0.11/' })
  if (command.length === 0) throw new UsageError('kpe lab exec needs a command after --', { hint: `kpe lab exec ${target} -- conntrack -L` })
  const state = readLabState(labStateDir(labStateRoot(), values.name ?? defaultLabPrefix))
  const res = await labExec(state, target, command, { onNonZeroExit: 'return', timeoutMs: 600_000 })
  process.stderr.write(res.stderr)
  // The command's own status, as `ip netns exec` and `kubectl exec` pass it on (main used to overwrite process.exitCode with 0).
  return { stdout: res.stdout, exitCode: res.code }
}

async function labRulesCommand(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({ args: argv, options: { name: { type: 'string' }, 'ip-family': { type: 'string' } }, strict: true, allowPositionals: true })
  const node = positionals[0]
  if (node === undefined) throw new UsageError('kpe lab rules needs a NODE', { hint: 'kpe lab rules node-a' })
  const family = values['ip-family'] === '6' ? 'IPv6' : values['ip-family'] === undefined || values['ip-family'] === '4' ? 'IPv4' : undefined
  if (family === undefined) throw new UsageError(`--ip-family ${values['ip-family']}: must be 4 or 6`)
  const state = readLabState(labStateDir(labStateRoot(), values.name ?? defaultLabPrefix))
  const ns = resolveTarget(state, `node/${node}`)
  if (state.mode === 'nftables') return new NftKernelExecutor({ run: labRunner(state, ns) }).list(family === 'IPv4' ? 'ip' : 'ip6')
  return saveNodeRules(labRunner(state, ns), family, state.backend)
}

async function labSyncCommand(argv: string[]): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: { filename: { type: 'string', short: 'f', multiple: true }, config: { type: 'string' }, name: { type: 'string' } },
    strict: true,
  })
  const state = readLabState(labStateDir(labStateRoot(), values.name ?? defaultLabPrefix))
  const files = values.filename ?? state.manifestFiles
  const after = readManifests(files)
  const configFile = readConfig(values.config ?? state.configFile, after)
  const config = configFile ? proxierInputFromFile(configFile) : undefined
  const beforeFile = join(state.stateDir, 'applied.yaml')
  const before = loadManifestText(readFileSync(beforeFile, 'utf8'), beforeFile)
  // The proxier loop starts from what the kernel holds and writes the change as a partial sync.
  const synced = await syncLabProxiers(state, { manifests: after, config, before })
  writeFileSync(beforeFile, files.map((f) => readText(f)).join('\n---\n'))
  const pods = (set: typeof after): string => set.pods.map((l) => `${l.object.metadata.namespace}/${l.object.metadata.name}@${l.object.status?.podIP}`).sort().join(',')
  const note = pods(before) !== pods(after) ? 'note: the pods changed; sync reloads rules only. Run `kpe lab down` and `kpe lab up` for new pods.\n' : ''
  const modes = [...new Set(synced.map((r) => r.mode))].join('/') || 'no'
  const changed = [...new Set(synced.flatMap((r) => r.changed))].sort()
  const recovered = synced.some((r) => r.failures > 0) ? 'note: a restore failed; the proxier recovered with a full resync.\n' : ''
  return `lab ${state.prefix}: ${modes} sync applied to ${new Set(synced.map((r) => r.node)).size} node(s); Services rewritten: ${changed.join(', ') || 'none'}\n${note}${recovered}`
}

async function labDownCommand(argv: string[]): Promise<string> {
  const { values } = parseArgs({ args: argv, options: { name: { type: 'string' } }, strict: true })
  const report = await labDown(labStateDir(labStateRoot(), values.name ?? defaultLabPrefix))
  let out = `lab ${report.prefix} is down: ${report.deletedNamespaces.length} namespace(s) deleted, ${report.killed.length} process(es) stopped\n`
  for (const f of report.foreignProcesses) out += `warning: left alone (not started by kpe), keeps its namespace alive: ${f}\n`
  return out
}
