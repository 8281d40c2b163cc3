/**
 * kpe's side of a namespace agent: starts the agent inside the network namespace a holder process
 * owns, and turns its answers into sockets. Each HandedConnection's socket is the namespace's own
 * TCP socket (its descriptor came over the IPC channel), and bindUdp's the namespace's own UDP
 * socket, so half-close, reset and every byte go straight to the kernel with no relay between.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { Socket as UdpSocket } from 'node:dgram'
import { Socket } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { ExecError } from '../errors.js'
import { nsenterArgv } from '../lab/index.js'
import { defaultDialTimeoutMs, parseAgentEvent, type AddressPort, type AgentEvent, type AgentRequest } from './agent-protocol.js'

export type { AddressPort } from './agent-protocol.js'

export interface HandedConnection {
  /** The TCP socket itself, inside the namespace; allowHalfOpen is on, so end() it when the other side ends. */
  readonly socket: Socket
  /** Addresses as the namespace saw them (after the kernel's DNAT/SNAT). */
  readonly local: AddressPort
  readonly remote: AddressPort
}

/** A UDP socket bound inside the namespace; only kpe holds it (the agent closed its copy). */
export interface HandedUdpSocket {
  readonly socket: UdpSocket
  readonly local: AddressPort
}

export interface NetnsListener {
  readonly local: AddressPort
  close(): Promise<void>
}

/** A dial (or listen) the namespace's kernel refused; `code` is the errno: ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, EADDRINUSE, ... */
export class DialError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'DialError'
    this.code = code
  }
}

export interface DialRequest {
  readonly host: string
  readonly port: number
  readonly localAddress?: string
  readonly localPort?: number
  readonly timeoutMs?: number
}

export interface NetnsAgent {
  readonly pid: number
  listen(at: AddressPort, onConnection: (c: HandedConnection) => void): Promise<NetnsListener>
  dial(to: DialRequest): Promise<HandedConnection>
  /** Binds a UDP socket in the namespace (port 0: any free port): datagrams sent and received on it are the namespace's. */
  bindUdp(at: AddressPort): Promise<HandedUdpSocket>
  /** Stops the agent by PID (SIGTERM, then SIGKILL after 2 s); connections already handed over stay open. */
  stop(): Promise<void>
}

export interface StartNetnsAgentOptions {
  /** A process whose network namespace the agent joins (a lab holder, or any process as root). */
  readonly holderPid: number
  /** Join the holder's user namespace too (rootless labs); otherwise only its network namespace. */
  readonly rootless: boolean
  /**
   * Kept for callers that reserve a private directory per agent: the agent needs no socket file,
   * because its channel is a socketpair inherited through nsenter, reachable by no other process.
   */
  readonly socketDir?: string
  readonly log?: (line: string) => void
  /** The agent's compiled entry point; defaults to netns-agent-main.js beside this module (or under dist/ when run from source). */
  readonly agentMain?: string
  /** How long the agent may take to start. */
  readonly startTimeoutMs?: number
}

/** Where the compiled agent lives: beside this file when kpe runs from dist/, else dist/ of the checkout (tests run from source). */
export function defaultAgentMain(): string {
  const here = fileURLToPath(import.meta.url)
  const sibling = join(dirname(here), 'netns-agent-main.js')
  if (here.endsWith('.js')) return sibling
  return resolve(dirname(here), '../../dist/src/netns/netns-agent-main.js')
}

/** The argv that starts the agent inside the holder's namespace(s). */
export function agentArgv(o: { holderPid: number; rootless: boolean; agentMain: string; nodePath: string }): string[] {
  const cmd = [o.nodePath, o.agentMain]
  return o.rootless ? nsenterArgv(o.holderPid, cmd) : ['nsenter', '-n', '-t', String(o.holderPid), ...cmd]
}

interface Pending {
  resolve(ev: AgentEvent, socket: Socket | UdpSocket | undefined): void
  reject(e: Error): void
}

class AgentConnection implements NetnsAgent {
  readonly pid: number
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly listeners = new Map<number, (c: HandedConnection) => void>()
  /** UDP sockets received and waiting for the agent's udpReleased. */
  private readonly udpBound = new Map<number, { ev: AgentEvent; socket: UdpSocket }>()
  private exitReason: string | undefined

  constructor(
    private readonly child: ChildProcess,
    private readonly what: string,
    private readonly log: (line: string) => void,
  ) {
    this.pid = child.pid!
    child.on('message', (m: unknown, handle: unknown) => this.onMessage(m, handle))
    child.on('exit', (code, signal) => this.onGone(`exited (${signal ?? `code ${code}`})`))
    child.on('disconnect', () => this.onGone('closed its channel'))
    child.on('error', (e) => this.onGone(e.message))
  }

  listen(at: AddressPort, onConnection: (c: HandedConnection) => void): Promise<NetnsListener> {
    return this.request({ op: 'listen', id: 0, at }, (id) => this.listeners.set(id, onConnection)).then(({ ev, id }) => {
      if (ev.op !== 'listening') throw new DialError('EPROTO', `${this.what}: answered listen with ${ev.op}`)
      return { local: ev.local, close: () => this.unlisten(id) }
    })
  }

  async dial(to: DialRequest): Promise<HandedConnection> {
    const req: AgentRequest = {
      op: 'dial',
      id: 0,
      to: { address: to.host, port: to.port },
      ...(to.localAddress === undefined ? {} : { localAddress: to.localAddress }),
      ...(to.localPort === undefined ? {} : { localPort: to.localPort }),
      timeoutMs: to.timeoutMs ?? defaultDialTimeoutMs,
    }
    const { ev, socket } = await this.request(req)
    if (ev.op !== 'dialed' || !(socket instanceof Socket)) {
      closeAny(socket)
      throw new DialError('EPROTO', `${this.what}: answered dial without a connected socket`)
    }
    return { socket: halfOpen(socket), local: ev.local, remote: ev.remote }
  }

  async bindUdp(at: AddressPort): Promise<HandedUdpSocket> {
    const { ev, socket } = await this.request({ op: 'bindUdp', id: 0, at })
    if (ev.op !== 'udpBound' || !(socket instanceof UdpSocket)) {
      closeAny(socket)
      throw new DialError('EPROTO', `${this.what}: answered bindUdp without a UDP socket`)
    }
    return { socket, local: ev.local }
  }

  async stop(): Promise<void> {
    this.onGone('stopped')
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()))
    try {
      this.child.kill('SIGTERM')
    } catch {
      return
    }
    const isExited = await Promise.race([exited.then(() => true), sleep(2000).then(() => false)])
    if (!isExited) {
      this.child.kill('SIGKILL')
      await exited
    }
  }

  private async unlisten(id: number): Promise<void> {
    this.listeners.delete(id)
    if (this.exitReason !== undefined) return
    await this.request({ op: 'unlisten', id }).catch(() => undefined)
  }

  /** Sends one request; `onId` runs before it is sent (a listener must be known before its first connection). */
  private request(req: AgentRequest, onId?: (id: number) => void): Promise<{ ev: AgentEvent; socket: Socket | UdpSocket | undefined; id: number }> {
    if (this.exitReason !== undefined) return Promise.reject(new DialError('EPIPE', `${this.what} ${this.exitReason}`))
    const id = req.op === 'unlisten' ? req.id : this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (ev, socket) => (ev.op === 'failed' ? reject(new DialError(ev.code, `${this.what}: ${ev.message}`)) : resolve({ ev, socket, id })),
        reject,
      })
      onId?.(id)
      this.refWhileBusy()
      try {
        this.child.send({ ...req, id })
      } catch (e) {
        this.pending.delete(id)
        this.listeners.delete(id)
        reject(new DialError('EPIPE', `${this.what}: ${String(e)}`))
      }
    })
  }

  private onMessage(m: unknown, handle: unknown): void {
    const socket = handle instanceof Socket || handle instanceof UdpSocket ? handle : undefined
    const parsed = parseAgentEvent(m)
    if (!parsed.ok) {
      this.log(`${this.what}: ignored a malformed message: ${parsed.error.message}`)
      closeAny(socket)
      return
    }
    const ev = parsed.value
    if (ev.op === 'ready') return
    if (ev.op === 'connection') return this.onConnection(ev, socket instanceof Socket ? socket : undefined)
    const p = this.pending.get(ev.id)
    if (p === undefined) {
      closeAny(socket)
      return
    }
    // A UDP socket is usable once the agent closed its own copy (until then it could read a datagram).
    if (ev.op === 'udpBound' && socket instanceof UdpSocket) return void this.udpBound.set(ev.id, { ev, socket })
    this.pending.delete(ev.id)
    if (ev.op === 'failed') this.listeners.delete(ev.id)
    const held = this.udpBound.get(ev.id)
    this.udpBound.delete(ev.id)
    if (ev.op === 'udpReleased' && held) p.resolve(held.ev, held.socket)
    else p.resolve(ev, socket)
    this.refWhileBusy()
  }

  private onConnection(ev: Extract<AgentEvent, { op: 'connection' }>, socket: Socket | undefined): void {
    const onConnection = this.listeners.get(ev.id)
    if (socket === undefined || onConnection === undefined) {
      socket?.destroy()
      return
    }
    try {
      onConnection({ socket: halfOpen(socket), local: ev.local, remote: ev.remote })
    } catch (e) {
      this.log(`${this.what}: connection handler for ${ev.local.address}:${ev.local.port} failed: ${String(e)}`)
      socket.destroy()
    }
  }

  private onGone(reason: string): void {
    if (this.exitReason !== undefined) return
    this.exitReason = reason
    const err = new DialError('EPIPE', `${this.what} ${reason}`)
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
    for (const u of this.udpBound.values()) u.socket.close()
    this.udpBound.clear()
    this.listeners.clear()
    if (this.child.connected) this.child.disconnect()
  }

  /** The channel keeps kpe's event loop alive only while a request or listener is outstanding. */
  private refWhileBusy(): void {
    const channel = this.child.channel as { ref?(): void; unref?(): void } | undefined
    if (this.pending.size > 0 || this.listeners.size > 0) channel?.ref?.()
    else channel?.unref?.()
  }
}

function closeAny(s: Socket | UdpSocket | undefined): void {
  if (s instanceof Socket) s.destroy()
  else s?.close()
}

function halfOpen(s: Socket): Socket {
  // Received descriptors become Sockets with allowHalfOpen off, which would end our side as soon as
  // the peer half-closes; the bytes still to send in the other direction must get through.
  s.allowHalfOpen = true
  return s
}

/** Starts an agent inside the network namespace held by holderPid (rootless: inside the user namespace too). */
export async function startNetnsAgent(o: StartNetnsAgentOptions): Promise<NetnsAgent> {
  if (!Number.isSafeInteger(o.holderPid) || o.holderPid <= 0) throw new ExecError('netns agent', null, `holderPid must be a positive integer (got ${o.holderPid})`)
  const agentMain = o.agentMain ?? defaultAgentMain()
  if (!existsSync(agentMain)) throw new ExecError('netns agent', null, `${agentMain} does not exist`, { hint: 'build kpe first: npx tsc -p tsconfig.build.json' })
  const log = o.log ?? (() => {})
  const argv = agentArgv({ holderPid: o.holderPid, rootless: o.rootless, agentMain, nodePath: process.execPath })
  const what = `netns agent for holder ${o.holderPid}`
  // detached: Ctrl-C reaches kpe only, and kpe stops its agents itself.
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true })
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
    for (const line of chunk.split('\n')) if (line.trim() !== '') log(line)
  })
  child.unref()
  ;(child.stderr as unknown as { unref?(): void }).unref?.()
  const ready = new Promise<void>((resolveReady, rejectReady) => {
    const timer = setTimeout(() => rejectReady(new ExecError(argv.join(' '), null, `${what} did not start within ${o.startTimeoutMs ?? 10_000} ms`)), o.startTimeoutMs ?? 10_000)
    const onReady = (m: unknown): void => {
      const ev = parseAgentEvent(m)
      if (ev.ok && ev.value.op === 'ready') {
        clearTimeout(timer)
        child.off('message', onReady)
        resolveReady()
      }
    }
    child.on('message', onReady)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      rejectReady(new ExecError(argv.join(' '), code, stderr || `${what} exited (${signal ?? `code ${code}`}) before it was ready`))
    })
    child.on('error', (e) => {
      clearTimeout(timer)
      rejectReady(new ExecError(argv.join(' '), null, e.message))
    })
  })
  if (child.pid === undefined) await ready
  const agent = new AgentConnection(child, what, log)
  try {
    await ready
  } catch (e) {
    await agent.stop()
    throw e
  }
  ;(child.channel as { unref?(): void } | undefined)?.unref?.()
  return agent
}
