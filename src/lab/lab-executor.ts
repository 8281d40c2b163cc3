/**
 * Applies a LabPlan to the kernel and takes it down again. Every command runs inside one of the
 * plan's namespaces (`ip -n NS ...`, `ip netns exec NS ...`); links are created in a lab
 * namespace with their peer moved to another lab namespace, so the root namespace gets no link,
 * address, route or rule. The state file records each namespace and process before or as it is
 * created; `labDown` removes exactly those, stopping processes by PID after checking that their
 * command line carries the lab's marker.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ExecError, NotFoundError, UsageError } from '../errors.js'
import type { LabPlan, LinkPlan } from './lab-plan.js'
import { podServerScript, probeScript } from './lab-scripts.js'
import { hasLabState, readLabState, removeLabStateDir, writeLabState, type LabProcess, type LabProxyMode, type LabState } from './lab-state.js'
import { listNetns, runCommand, type ExecResult, type IptablesBackend, type RunOptions } from './netns.js'
import { isInUserNamespace, nsenterArgv, startNetnsHolder, startUserNamespace } from './userns-holders.js'
import type { IPFamily } from '../net/index.js'
import type { NetnsRunner } from './node-rules.js'

export const podServerFile = 'pod-server.mjs'
export const probeFile = 'probe.mjs'

/** argv that runs `argv` inside one of the lab's namespaces; refuses any name the state does not list. */
export function labCommandArgv(state: Pick<LabState, 'prefix' | 'namespaces' | 'rootless'>, netns: string, argv: readonly string[]): string[] {
  if (!state.namespaces.includes(netns) || !netns.startsWith(`${state.prefix}-`)) {
    throw new UsageError(`refusing to run in ${JSON.stringify(netns)}: not a namespace of lab ${state.prefix}`)
  }
  if (!state.rootless) return ['ip', 'netns', 'exec', netns, ...argv]
  const pid = state.rootless.holders[netns]
  if (pid === undefined || !isInUserNamespace(pid, state.rootless.userNs)) {
    throw new NotFoundError(`namespace ${netns} of lab ${state.prefix} is gone (its holder process ${pid ?? '?'} is not running)`, { hint: `remove the lab with \`kpe lab down --name ${state.prefix}\`` })
  }
  return nsenterArgv(pid, argv)
}

/** A runner for one of the lab's namespaces; refuses any name the state does not list. */
export function labRunner(state: Pick<LabState, 'prefix' | 'namespaces' | 'rootless'>, netns: string): NetnsRunner {
  return (argv, opts) => runCommand(labCommandArgv(state, netns, argv), opts)
}

/** What the link and sysctl steps need of a lab: its namespaces and how to enter them. */
export type LabNamespaces = Pick<LabState, 'prefix' | 'namespaces' | 'rootless'>

async function ipBatch(state: LabNamespaces, netns: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return
  await labRunner(state, netns)(['ip', '-batch', '-'], { input: lines.join('\n') + '\n' })
}

/** How a link command names another lab namespace: by name, or (rootless) by its holder's PID. */
function netnsRef(state: LabNamespaces, netns: string): string {
  return state.rootless ? String(state.rootless.holders[netns]) : netns
}

/** Runs fn over items with at most `limit` in flight. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const t of items) {
    const k = key(t)
    const list = out.get(k)
    if (list) list.push(t)
    else out.set(k, [t])
  }
  return out
}

export interface LabUpOptions {
  readonly plan: LabPlan
  readonly backend: IptablesBackend
  /** iptables (default) or nftables: which tool programs the nodes. */
  readonly mode?: LabProxyMode
  readonly families: readonly IPFamily[]
  readonly stateDir: string
  /** Programs the nodes' rules once the namespaces are up (the proxier loops: syncLabProxiers). */
  readonly program: (state: LabState) => Promise<unknown>
  readonly manifestFiles?: readonly string[]
  readonly configFile?: string
  /** Snapshot of the manifests the rules came from (for `kpe lab sync`). */
  readonly manifestText?: string
  /** Build the lab inside one user namespace, with process-held namespaces (no root needed). */
  readonly rootless?: boolean
}

/** Creates the lab. On failure, removes what it created and rethrows. */
export async function labUp(opts: LabUpOptions): Promise<LabState> {
  const { plan } = opts
  if (hasLabState(opts.stateDir)) {
    throw new UsageError(`lab ${plan.prefix} already exists (state in ${opts.stateDir})`, { hint: `remove it with \`kpe lab down --name ${plan.prefix}\`, or pick another --name` })
  }
  const existing = new Set(opts.rootless ? [] : await listNetns())
  const clash = plan.namespaces.find((n) => existing.has(n))
  if (clash !== undefined) {
    throw new UsageError(`network namespace ${clash} already exists and is not recorded by lab ${plan.prefix}`, { hint: 'pick another --name; kpe never adopts or deletes a namespace it did not record' })
  }
  const state: LabState = {
    version: 1,
    prefix: plan.prefix,
    backend: opts.backend,
    mode: opts.mode ?? 'iptables',
    families: [...opts.families],
    stateDir: opts.stateDir,
    namespaces: [],
    processes: [],
    plan,
    manifestFiles: [...(opts.manifestFiles ?? [])],
    configFile: opts.configFile,
    complete: false,
  }
  writeLabState(state)
  writeFileSync(join(opts.stateDir, podServerFile), podServerScript)
  writeFileSync(join(opts.stateDir, probeFile), probeScript)
  if (opts.manifestText !== undefined) writeFileSync(join(opts.stateDir, 'applied.yaml'), opts.manifestText)
  try {
    // Recorded before creation: a crash between the two leaves a name that `down` skips if absent.
    state.namespaces = [...plan.namespaces]
    writeLabState(state)
    if (opts.rootless) await startHolders(state, plan)
    else await inParallel(plan.namespaces, 8, (ns) => runCommand(['ip', 'netns', 'add', ns]).then(() => undefined))
    await applyLinks(state, plan)
    await applySysctls(state, plan)
    await opts.program(state)
    await startPodServers(state, plan)
    state.complete = true
    writeLabState(state)
    return state
  } catch (err) {
    await labDown(opts.stateDir).catch(() => {})
    throw err
  }
}

/** Rootless: the user namespace (holding the first network namespace), then one holder per namespace, each recorded at once. */
async function startHolders(state: LabState, plan: LabPlan): Promise<void> {
  const [first, ...rest] = plan.namespaces
  if (first === undefined) return
  const user = await startUserNamespace()
  state.rootless = { userNs: user.userNs, holders: { [first]: user.pid } }
  writeLabState(state)
  await inParallel(rest, 8, async (ns) => {
    state.rootless!.holders[ns] = await startNetnsHolder(user)
    writeLabState(state)
  })
}

/** The plan's bridges, veth pairs, addresses, routes and routing rules, namespace by namespace. */
export async function applyLinks(state: LabNamespaces, plan: Pick<LabPlan, 'namespaces' | 'links' | 'addresses' | 'routes' | 'routingRules'>): Promise<void> {
  const bridges = plan.links.filter((l): l is Extract<LinkPlan, { kind: 'bridge' }> => l.kind === 'bridge')
  const veths = plan.links.filter((l): l is Extract<LinkPlan, { kind: 'veth' }> => l.kind === 'veth')
  // 1. loopback up and bridges, per namespace.
  await inParallel(plan.namespaces, 8, (ns) =>
    ipBatch(state, ns, ['link set lo up', ...bridges.filter((b) => b.netns === ns).flatMap((b) => [`link add ${b.name} type bridge`, `link set ${b.name} up`])]),
  )
  // 2. veth pairs: created in one lab namespace, the peer moved straight into another.
  await inParallel([...groupBy(veths, (v) => v.netns)], 8, ([ns, list]) =>
    ipBatch(state, ns, list.map((v) => `link add ${v.name} type veth peer name ${v.peerName} netns ${netnsRef(state, v.peerNetns)}`)),
  )
  // 3. ports on bridges, links up, addresses, routes.
  await inParallel(plan.namespaces, 8, (ns) => {
    const lines: string[] = []
    for (const v of veths) {
      if (v.netns === ns) lines.push(`link set ${v.name} up`)
      if (v.peerNetns === ns) {
        lines.push(`link set ${v.peerName} master ${v.peerMaster}`)
        if (v.peerHairpin) lines.push(`link set dev ${v.peerName} type bridge_slave hairpin on`)
        lines.push(`link set ${v.peerName} up`)
      }
    }
    for (const a of plan.addresses) if (a.netns === ns) lines.push(`addr add ${a.cidr} dev ${a.dev}`)
    for (const r of plan.routes) {
      if (r.netns === ns) lines.push(r.table ? `route add ${r.dst} via ${r.via} dev ${r.table.dev} onlink table ${r.table.id}` : `route add ${r.dst} via ${r.via}`)
    }
    for (const r of plan.routingRules) if (r.netns === ns) lines.push(`rule add from ${r.from} lookup ${r.table}`)
    return ipBatch(state, ns, lines)
  })
}

export async function applySysctls(state: LabNamespaces, plan: Pick<LabPlan, 'sysctls'>): Promise<void> {
  await inParallel([...groupBy(plan.sysctls, (s) => s.netns)], 8, async ([ns, list]) => {
    await labRunner(state, ns)(['sysctl', '-q', '-w', ...list.map((s) => `${s.key}=${s.value}`)])
  })
}

function requirePlan(state: LabState): LabPlan {
  if (!state.plan) throw new NotFoundError(`lab ${state.prefix} has no plan recorded`)
  return state.plan
}

async function startPodServers(state: LabState, plan: LabPlan): Promise<void> {
  const script = join(state.stateDir, podServerFile)
  const started: { proc: LabProcess; log: string }[] = []
  for (const [i, p] of plan.processes.entries()) {
    const log = join(state.stateDir, `server-${i}.log`)
    const pod = plan.pods.find((x) => x.key === p.pod)!
    const [file, ...args] = labCommandArgv(state, p.netns, [process.execPath, script, pod.name, ...p.ports.map((x) => `${x.protocol}/${x.port}`)])
    const fd = openSync(log, 'w')
    const child = spawn(file!, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
    })
    closeSync(fd)
    child.unref()
    if (child.pid === undefined) throw new ExecError(`${file} ${args.join(' ')}`, null, 'spawn failed')
    // `ip netns exec` and `nsenter` exec in place, so this PID is the server's own.
    const proc: LabProcess = { pid: child.pid, netns: p.netns, pod: p.pod, marker: script }
    state.processes.push(proc)
    writeLabState(state)
    started.push({ proc, log })
  }
  const deadline = Date.now() + 20_000
  for (const s of started) {
    for (;;) {
      const text = readFileSync(s.log, 'utf8')
      if (text.includes('ready ')) break
      if (!isAlive(s.proc.pid) || Date.now() > deadline) {
        throw new ExecError(`pod server for ${s.proc.pod}`, null, text || 'did not become ready')
      }
      await sleep(10)
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return readStat(pid) !== 'Z'
  } catch {
    return false
  }
}

function readStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0]
  } catch {
    return undefined
  }
}

function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
  } catch {
    return undefined
  }
}

export interface LabDownReport {
  readonly prefix: string
  readonly killed: readonly number[]
  readonly deletedNamespaces: readonly string[]
  /** Processes found in the lab's namespaces that kpe did not start: left alone, keeping their namespace alive. */
  readonly foreignProcesses: readonly string[]
}

/** Removes exactly what the state file lists: processes (by PID, marker checked), then namespaces. */
export async function labDown(stateDir: string): Promise<LabDownReport> {
  const state = readLabState(stateDir)
  if (state.rootless) return rootlessDown(state)
  const marker = join(state.stateDir, podServerFile)
  const present = new Set(await listNetns())
  const candidates = new Set(state.processes.filter((p) => p.marker === marker).map((p) => p.pid))
  // A server spawned just before `up` was killed may not have its PID recorded yet: find it by namespace.
  const foreign: string[] = []
  for (const ns of state.namespaces) {
    if (!present.has(ns) || !ns.startsWith(`${state.prefix}-`)) continue
    const res = await runCommand(['ip', 'netns', 'pids', ns], { onNonZeroExit: 'return' })
    for (const pid of res.stdout.split(/\s+/).filter(Boolean).map(Number)) {
      if (cmdlineOf(pid)?.includes(marker)) candidates.add(pid)
      else foreign.push(`${pid} in ${ns}: ${cmdlineOf(pid) ?? '?'}`)
    }
  }
  const killed: number[] = []
  for (const pid of candidates) {
    if (!cmdlineOf(pid)?.includes(marker)) continue // exited, or the PID now belongs to someone else
    try {
      process.kill(pid, 'SIGKILL')
      killed.push(pid)
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000
  while (killed.some(isAlive) && Date.now() < deadline) await sleep(10)
  const deleted: string[] = []
  for (const ns of [...state.namespaces].reverse()) {
    if (!present.has(ns)) continue
    await runCommand(['ip', 'netns', 'del', ns])
    deleted.push(ns)
  }
  removeLabStateDir(state.stateDir)
  return { prefix: state.prefix, killed, deletedNamespaces: deleted, foreignProcesses: foreign }
}

/**
 * Rootless: stops the pod servers (marker checked), then every holder; a namespace ends with the
 * last process in it. Each PID is checked to live in the lab's own user namespace first, and
 * the call returns once every stopped process is gone.
 */
async function rootlessDown(state: LabState): Promise<LabDownReport> {
  const { userNs, holders } = state.rootless!
  const marker = join(state.stateDir, podServerFile)
  const servers = state.processes.filter((p) => p.marker === marker && isInUserNamespace(p.pid, userNs) && cmdlineOf(p.pid)?.includes(marker)).map((p) => p.pid)
  const held = Object.entries(holders).filter(([, pid]) => isInUserNamespace(pid, userNs))
  // The user namespace's own holder goes last: the others were entered through it.
  held.sort(([a], [b]) => Number(a === state.namespaces[0]) - Number(b === state.namespaces[0]))
  const killed: number[] = []
  const stop = async (pids: readonly number[]): Promise<void> => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
        killed.push(pid)
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 5_000
    while (pids.some(isAlive) && Date.now() < deadline) await sleep(10)
  }
  await stop(servers)
  await stop(held.map(([, pid]) => pid))
  const foreign = foreignInUserNamespace(userNs)
  removeLabStateDir(state.stateDir)
  return { prefix: state.prefix, killed, deletedNamespaces: held.map(([ns]) => ns), foreignProcesses: foreign }
}

/** Processes still in the lab's user namespace that kpe did not start (e.g. a `kpe lab exec` still running). */
function foreignInUserNamespace(userNs: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue
    if (isInUserNamespace(pid, userNs) && isAlive(pid)) out.push(`${pid}: ${cmdlineOf(pid) ?? '?'}`)
  }
  return out
}

/** Resolves `pod/NAMESPACE/NAME`, `node/NAME` or `external` to the lab namespace. */
export function resolveTarget(state: LabState, target: string): string {
  const plan = requirePlan(state)
  if (target === 'external') return plan.external.netns
  const [kind, ...rest] = target.split('/')
  if (kind === 'node' && rest.length === 1) {
    const n = plan.nodes.find((x) => x.name === rest[0])
    if (n) return n.netns
  } else if (kind === 'pod' && rest.length === 2) {
    const p = plan.pods.find((x) => x.key === `${rest[0]}/${rest[1]}`)
    if (p) return p.netns
  } else {
    throw new UsageError(`bad target ${JSON.stringify(target)}`, { hint: 'use pod/NAMESPACE/NAME, node/NAME or external' })
  }
  throw new NotFoundError(`lab ${state.prefix} has no ${target}`, {
    hint: `known: ${[...plan.nodes.map((n) => `node/${n.name}`), ...plan.pods.map((p) => `pod/${p.key}`), 'external'].join(', ')}`,
  })
}

/** Runs a command in a lab namespace, returning its output. */
export async function labExec(state: LabState, target: string, argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  return labRunner(state, resolveTarget(state, target))(argv, opts)
}
