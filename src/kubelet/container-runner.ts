/**
 * One container of a running pod, across its restarts: starts its emulated servers (or, with
 * allowExec, its process), keeps one log per instance (the current and the previous), and
 * records the state its status reports. Restart decisions are the kubelet's; this only does them.
 */
import type { Container } from '../api/index.js'
import type { L4Proto } from '../net/index.js'
import { ContainerLog, type ContainerLogLimits } from './container-log.js'
import { containerIDOf, type ContainerRecord, type ContainerState, type TerminatedState } from './container-status.js'
import { startExecContainer, type ExecHandle } from './exec-container.js'
import type { ContainerPlan } from './pod-behaviour.js'
import type { LoopbackAddress } from './pod-network-table.js'
import type { PodIdentity } from './pod-replies.js'
import { startPodServer, type RunningServer } from './pod-server.js'
import { servingLine } from './request-log.js'
import type { SeenSourceTable } from './seen-source-table.js'

export interface ContainerRunnerOptions {
  readonly container: Container
  readonly plan: ContainerPlan
  readonly pod: PodIdentity & { readonly uid: string }
  readonly seen: SeenSourceTable
  readonly clock: { now(): number }
  /** Points podIP:port at the address now serving it (called again on every start). */
  readonly register: (port: number, proto: L4Proto, local: LoopbackAddress) => void
  /** The container's process ended by itself (allowExec only), with this exit code. */
  readonly exited: (exitCode: number) => void
  readonly logLimits?: ContainerLogLimits
}

/** Exit code and reason a runtime reports for a container killed after a failed liveness probe. */
export const killedExitCode = 137

export class ContainerRunner {
  readonly #o: ContainerRunnerOptions
  #restartCount = 0
  #state: ContainerState = { kind: 'waiting', reason: 'ContainerCreating' }
  #lastTerminated: TerminatedState | undefined
  #log: ContainerLog
  #previous: ContainerLog | undefined
  #servers: RunningServer[] = []
  #exec: ExecHandle | undefined
  /** Set while kpe itself stops the instance, so its exit is not taken for a crash. */
  #stopping = false

  constructor(o: ContainerRunnerOptions) {
    this.#o = o
    this.#log = new ContainerLog(o.clock, o.logLimits)
  }

  get name(): string {
    return this.#o.container.name
  }

  get restartCount(): number {
    return this.#restartCount
  }

  get state(): ContainerState {
    return this.#state
  }

  get isRunning(): boolean {
    return this.#state.kind === 'running'
  }

  get containerID(): string {
    return containerIDOf(this.#o.pod.uid, this.name, this.#restartCount)
  }

  /** The current instance's log, or the previous instance's (undefined when there was none). */
  log(previous: boolean): ContainerLog | undefined {
    return previous ? this.#previous : this.#log
  }

  record(ready: boolean): ContainerRecord {
    return { name: this.name, image: this.#o.container.image ?? '', restartCount: this.#restartCount, state: this.#state, lastTerminated: this.#lastTerminated, containerID: this.containerID, ready }
  }

  async start(): Promise<void> {
    const { plan, pod } = this.#o
    const b = plan.behaviour
    this.#stopping = false
    if (b.kind === 'exec') {
      this.#exec = startExecContainer(b.argv, pod, {}, {
        output: (stream, text) => this.#log.write(stream, text),
        exit: (code) => this.#onExit(code),
      })
      for (const p of plan.ports) this.#o.register(p.port, p.proto, { address: '127.0.0.1', port: p.port })
    } else if (b.kind !== 'none') {
      for (const p of plan.ports) {
        const server = await startPodServer({ behaviour: b, proto: p.proto, pod, seen: this.#o.seen, log: (line) => this.#log.write('stdout', line) })
        this.#servers.push(server)
        this.#o.register(p.port, p.proto, server.local)
        this.#log.write('stdout', servingLine(b, p.port, p.proto))
      }
    }
    this.#state = { kind: 'running', startedAt: this.#o.clock.now() }
  }

  /** Stops the instance (SIGTERM, then SIGKILL after graceMs for a process) and records how it ended. */
  async kill(exitCode: number, reason: string, graceMs: number): Promise<void> {
    this.#stopping = true
    const servers = this.#servers
    this.#servers = []
    await Promise.all([...servers.map((s) => s.close()), this.#exec?.stop(graceMs)])
    this.#exec = undefined
    this.#terminated(exitCode, reason)
  }

  /** While the kubelet waits to start the next instance (CrashLoopBackOff). */
  wait(reason: string, message: string): void {
    this.#state = { kind: 'waiting', reason, message }
  }

  /** A new instance: the current log becomes the previous one, the restart count goes up. */
  async restart(): Promise<void> {
    this.#previous = this.#log
    this.#log = new ContainerLog(this.#o.clock, this.#o.logLimits)
    this.#restartCount++
    await this.start()
  }

  #terminated(exitCode: number, reason: string): void {
    if (this.#state.kind === 'terminated') return
    const startedAt = this.#state.kind === 'running' ? this.#state.startedAt : this.#o.clock.now()
    const t: TerminatedState = { kind: 'terminated', exitCode, reason, startedAt, finishedAt: this.#o.clock.now(), containerID: this.containerID }
    this.#state = t
    this.#lastTerminated = t
    this.#log.end()
  }

  #onExit(code: number): void {
    if (this.#stopping) return
    this.#exec = undefined
    this.#terminated(code, code === 0 ? 'Completed' : 'Error')
    this.#o.exited(code)
  }
}
