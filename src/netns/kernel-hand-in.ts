/**
 * The hand-in hop of `kpe up --dataplane kernel`: a connection that reached one of kpe's loopback
 * entry points is dialled again from the topology's external host, sourced from its address that
 * routes via the chosen node, so it enters that node through PREROUTING as an external client's
 * would and the kernel's rules make every Service choice. The connection log then names the
 * endpoint the kernel chose, from the node's conntrack reply tuple (its NEW event, or a table
 * read when the event did not come).
 *
 * Wiring (kdp, start-cluster.ts): `startKernelHandIn(topology, { log })` once the topology is up;
 * an entry point calls `handIn.open({ entry, client, node, host, port })` where the userspace
 * dataplane would `decide` + `openTcp`, pipes the returned socket (e.g. pipeBoth), and maps the
 * other kinds as dialThroughDataplane's results are mapped (refused, dropped, unreachable).
 */
import type { Socket } from 'node:net'
import { readFile } from 'node:fs/promises'
import { runCommand, nsenterArgv, type LabPlan } from '../lab/index.js'
import { findByOriginal, parseConntrackTable, type ConntrackEntry, type ConntrackTuple } from './conntrack-entries.js'
import { ConntrackNewEvents } from './conntrack-events.js'
import { DialError, startNetnsAgent, type AddressPort, type NetnsAgent } from './netns-agent.js'
import type { ConnectionLog, ConnectionRecord, HandInPortRequest } from '../proxy/userspace/index.js'

/** What the entry points ask of the hop: declared beside them (userspace/), with each field's meaning. */
export type HandInRequest = HandInPortRequest

/** The kinds match dialThroughDataplane's, so entry points map both the same way. */
export type HandInResult =
  | {
      readonly kind: 'connected'
      readonly socket: Socket
      /** The hop's own address and port, as the entry node saw the client. */
      readonly local: AddressPort
      /** What the kernel chose, when conntrack showed it by the time the log entry was written. */
      readonly endpoint: Promise<AddressPort | undefined>
    }
  | { readonly kind: 'refused' | 'dropped' | 'unreachable'; readonly code: string; readonly reason: string }

export interface KernelHandIn {
  open(r: HandInRequest): Promise<HandInResult>
  /** Stops the external host's agent; connections already open stay open. */
  stop(): Promise<void>
}

/** Where the hop runs and what it reads, taken from the kernel topology. */
export interface HandInTopology {
  readonly rootless: boolean
  /** PID holding the external host's network namespace. */
  readonly outsideHolder: number
  /** Node name -> PID holding its network namespace (whose conntrack table is read). */
  readonly nodeHolders: ReadonlyMap<string, number>
  /** Node name -> the external host's source address that routes via that node. */
  readonly sources: ReadonlyMap<string, string>
}

export interface HandInOptions {
  readonly log: ConnectionLog
  readonly clock: { now(): number }
  /** Names the pod behind an endpoint address, for the log. */
  readonly podByIP?: (ip: string) => string | undefined
  readonly logger?: (line: string) => void
  readonly connectTimeoutMs?: number
  /** Reads a node's conntrack table as text; default: /proc/HOLDER/net/nf_conntrack, else `conntrack -L` inside the node. */
  readonly readConntrack?: (node: string) => Promise<string>
  /**
   * Follows a node's new entries from the hop's source (default: `conntrack -E` inside the node);
   * undefined: only table reads. A lookup waits this long for the event before reading the table.
   */
  readonly followConntrack?: (node: string) => ConntrackFollower | undefined
}

export interface ConntrackFollower {
  /** False once the follower's process ended: the hop starts another (at most every restartMs). */
  readonly isRunning?: boolean
  find(t: ConntrackTuple, waitMs: number): Promise<ConntrackEntry | undefined>
  stop(): void
}

/** A follower that ended is started again at most this often (a missing conntrack must not spawn per connection). */
const restartMs = 5000

/** How long a lookup waits for a node's NEW event before it reads the table instead. */
const eventWaitMs = 1000

/** The external host's `lan` address per node: policy-routed via that node (lab-plan.ts). */
export function handInSources(plan: Pick<LabPlan, 'external'>): Map<string, string> {
  return new Map(plan.external.clients.filter((c) => c.kind === 'lan').map((c) => [c.via, c.address]))
}

/** The errno of a failed dial, as the entry points' verdicts. */
export function handInFailure(code: string): 'refused' | 'dropped' | 'unreachable' {
  if (code === 'ETIMEDOUT') return 'dropped'
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'unreachable'
  return 'refused'
}

/** Reads each node's table once for every lookup that was waiting when the read began. */
class ConntrackLookups {
  readonly #waiting = new Map<string, { proto: string; tuple: ConntrackTuple; resolve: (e: ConntrackEntry | undefined) => void }[]>()
  readonly #reading = new Set<string>()

  constructor(private readonly read: (node: string) => Promise<string>) {}

  find(node: string, proto: string, tuple: ConntrackTuple): Promise<ConntrackEntry | undefined> {
    return new Promise((resolve) => {
      const list = this.#waiting.get(node) ?? []
      list.push({ proto, tuple, resolve })
      this.#waiting.set(node, list)
      this.#next(node)
    })
  }

  #next(node: string): void {
    if (this.#reading.has(node)) return
    const batch = this.#waiting.get(node)
    if (batch === undefined || batch.length === 0) return
    this.#waiting.delete(node)
    this.#reading.add(node)
    this.read(node)
      .then(parseConntrackTable, () => [])
      .then((entries) => {
        for (const w of batch) w.resolve(findByOriginal(entries, w.proto, w.tuple))
      })
      .finally(() => {
        this.#reading.delete(node)
        this.#next(node)
      })
  }
}

/** argv that runs `cmd` inside node's namespace. */
function inNode(t: HandInTopology, pid: number, cmd: readonly string[]): string[] {
  return t.rootless ? nsenterArgv(pid, cmd) : ['nsenter', '-n', '-t', String(pid), ...cmd]
}

function defaultFollowConntrack(t: HandInTopology, log: (line: string) => void): (node: string) => ConntrackFollower | undefined {
  return (node) => {
    const pid = t.nodeHolders.get(node)
    const source = t.sources.get(node)
    if (pid === undefined || source === undefined) return undefined
    return new ConntrackNewEvents(inNode(t, pid, ['conntrack', '-E', '-e', 'NEW', '-p', 'tcp', '--orig-src', source]), log)
  }
}

/** Reads a node's whole TCP conntrack table (the hop's fallback when no NEW event came). */
export function readNodeConntrack(t: HandInTopology): (node: string) => Promise<string> {
  return async (node) => {
    const pid = t.nodeHolders.get(node)
    if (pid === undefined) throw new Error(`no namespace for node ${node}`)
    try {
      // /proc/PID/net is the network namespace of PID: no process to start.
      return await readFile(`/proc/${pid}/net/nf_conntrack`, 'utf8')
    } catch {
      // Without root, /proc/PID/net/nf_conntrack is closed even inside the user namespace; netlink is not.
      const source = t.sources.get(node)
      const ct = ['conntrack', '-L', '-p', 'tcp', ...(source === undefined ? [] : ['--orig-src', source])]
      const r = await runCommand(inNode(t, pid, ct), { onNonZeroExit: 'return', timeoutMs: 5000 })
      return r.stdout
    }
  }
}

class KernelHandInHop implements KernelHandIn {
  readonly #conntrack: ConntrackLookups
  readonly #followers = new Map<string, { follower: ConntrackFollower | undefined; at: number }>()
  readonly #follow: (node: string) => ConntrackFollower | undefined

  constructor(
    private readonly outside: Pick<NetnsAgent, 'dial' | 'stop'>,
    private readonly t: HandInTopology,
    private readonly o: HandInOptions,
  ) {
    this.#conntrack = new ConntrackLookups(o.readConntrack ?? readNodeConntrack(t))
    this.#follow = o.followConntrack ?? defaultFollowConntrack(t, o.logger ?? (() => {}))
  }

  /** The node's follower, started on first use (before the dial, so its NEW event is seen). */
  #follower(node: string): ConntrackFollower | undefined {
    const now = Date.now()
    const f = this.#followers.get(node)
    if (f === undefined || (f.follower?.isRunning === false && now - f.at >= restartMs)) {
      f?.follower?.stop()
      this.#followers.set(node, { follower: this.#follow(node), at: now })
    }
    return this.#followers.get(node)!.follower
  }

  /** Whatever conntrack says about `tuple` on `node`: the NEW event if one came, else the table. */
  async #lookup(node: string, tuple: ConntrackTuple): Promise<ConntrackEntry | undefined> {
    const fromEvent = await this.#follower(node)?.find(tuple, eventWaitMs)
    return fromEvent ?? this.#conntrack.find(node, 'tcp', tuple)
  }

  async open(r: HandInRequest): Promise<HandInResult> {
    const at = this.o.clock.now()
    const destination = `${r.host} port ${r.port}/tcp`
    const base = { at, entry: r.entry, client: r.client, destination, node: r.node }
    const source = this.t.sources.get(r.node)
    if (source === undefined) {
      const reason = `no external host address routes via node ${r.node}`
      this.o.log.add({ ...base, verdict: 'unreachable', reason })
      return { kind: 'unreachable', code: 'EHOSTUNREACH', reason }
    }
    this.#follower(r.node)
    try {
      const c = await this.outside.dial({ host: r.host, port: r.port, localAddress: source, timeoutMs: r.timeoutMs ?? this.o.connectTimeoutMs ?? 5000 })
      const endpoint = this.#record(base, r.node, c.local, { src: c.local.address, sport: c.local.port, dst: r.host, dport: r.port })
      return { kind: 'connected', socket: c.socket, local: c.local, endpoint }
    } catch (e) {
      const code = e instanceof DialError ? e.code : 'EIO'
      const kind = handInFailure(code)
      // Only these errnos are the kernel's verdict; anything else (a bad address, a dead agent) is the hop's own failure.
      const isKernelVerdict = ['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)
      const reason = isKernelVerdict ? `the kernel answered ${code} (${kernelVerdict(kind)})` : `the hand-in hop failed: ${e instanceof Error ? e.message : String(e)}`
      this.o.log.add({ ...base, verdict: kind === 'refused' ? 'reject' : kind === 'dropped' ? 'drop' : 'unreachable', reason })
      this.o.logger?.(`${r.entry}: ${r.client} -> ${r.host}:${r.port} via ${r.node}: ${reason}`)
      return { kind, code, reason }
    }
  }

  /** Logs the connection once the node's conntrack entry names the endpoint (or once it is known it does not). */
  async #record(base: Omit<ConnectionRecord, 'verdict'>, node: string, local: AddressPort, tuple: ConntrackTuple): Promise<AddressPort | undefined> {
    const e = await this.#lookup(node, tuple)
    const record: ConnectionRecord = e === undefined
      ? { ...base, verdict: 'forward', seen: `${local.address}:${local.port}`, reason: `no conntrack entry on ${node} for ${local.address}:${local.port}` }
      : {
          ...base,
          verdict: 'forward',
          endpoint: `${e.reply.src}:${e.reply.sport}`,
          // The endpoint answers to where it saw the client come from: after the node's SNAT, if any.
          seen: `${e.reply.dst}:${e.reply.dport}`,
          ...(this.o.podByIP?.(e.reply.src) === undefined ? {} : { pod: this.o.podByIP(e.reply.src)! }),
        }
    this.o.log.add(record)
    return e === undefined ? undefined : { address: e.reply.src, port: e.reply.sport }
  }

  stop(): Promise<void> {
    for (const f of this.#followers.values()) f.follower?.stop()
    this.#followers.clear()
    return this.outside.stop()
  }
}

function kernelVerdict(kind: 'refused' | 'dropped' | 'unreachable'): string {
  return kind === 'refused' ? 'REJECT, or no listener' : kind === 'dropped' ? 'DROP: no answer' : 'no route'
}

/** The hop over an agent already running in the external host's namespace (or a stand-in in tests). */
export function kernelHandInOver(outside: Pick<NetnsAgent, 'dial' | 'stop'>, t: HandInTopology, o: HandInOptions): KernelHandIn {
  return new KernelHandInHop(outside, t, o)
}

/** Starts the external host's agent and returns the hop. */
export async function startKernelHandIn(t: HandInTopology, o: HandInOptions): Promise<KernelHandIn> {
  const outside = await startNetnsAgent({ holderPid: t.outsideHolder, rootless: t.rootless, ...(o.logger ? { log: o.logger } : {}) })
  return kernelHandInOver(outside, t, o)
}
