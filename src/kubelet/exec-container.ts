/**
 * UNSAFE, opt-in only (`allowExec`): runs a container's command as a real process on this
 * machine, with the caller's privileges and network. The process is expected to listen on its
 * containerPort on 127.0.0.1; the pod network table points there. Each container is its own
 * process group, so stop reaches what it started too: SIGTERM to the group, SIGKILL after the
 * grace period, and SIGKILL to every live group if kpe exits without stopping its pods.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { constants as osConstants } from 'node:os'
import type { PodIdentity } from './pod-replies.js'

export interface ExecHandle {
  readonly pid: number | undefined
  stop(graceMs: number): Promise<void>
}

/** Process groups (their leaders' PIDs) of containers not yet stopped. */
const liveGroups = new Set<number>()
let exitHookInstalled = false

/** Signals a whole process group; a group that is already gone is not an error. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // ESRCH: every process of the group has exited
  }
}

function killLiveGroups(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL')
  liveGroups.clear()
}

/**
 * The last line of defence, for a process that ends with containers still running: on 'exit'
 * (synchronous, as process.kill is), and on SIGINT/SIGTERM, which end the process without an
 * 'exit' event when nobody handles them (kpe up listens only once its summary is printed). The
 * signal is not swallowed: with no other listener it is raised again, and the process dies of
 * it as before; with one (kpe up's orderly stop), that listener goes on as before.
 */
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', killLiveGroups)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killLiveGroups()
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal)
        process.kill(process.pid, signal)
      }
    }
    process.on(signal, onSignal)
  }
}

/** Where a container process's output and exit go (the container's log and the kubelet). */
export interface ExecOutput {
  output(stream: 'stdout' | 'stderr', text: string): void
  /** The leader exited on its own or was stopped: exit code, or 128 + signal number as a runtime reports it. */
  exit(code: number): void
}

export function startExecContainer(argv: readonly string[], pod: PodIdentity, env: Readonly<Record<string, string>>, sink?: ExecOutput): ExecHandle {
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    stdio: sink ? ['ignore', 'pipe', 'pipe'] : 'ignore',
    // A new process group led by the child: its own children (a shell's `cmd &`) join it, so
    // signalling -pid reaches them; without it they outlived kpe (issue 10, item 8).
    detached: true,
    env: { ...process.env, ...env, POD_NAME: pod.name, POD_NAMESPACE: pod.namespace, POD_IP: pod.podIP, NODE_NAME: pod.node },
  })
  child.on('error', (err) => sink?.output('stderr', `kpe: cannot start ${argv[0]!}: ${err.message}\n`))
  if (sink) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => sink.output('stdout', d))
    child.stderr?.setEncoding('utf8').on('data', (d: string) => sink.output('stderr', d))
    // The exit counts when the leader exits; its last output is awaited briefly ('close'), since
    // a background child that inherited stdout could hold the pipe open for ever.
    child.once('exit', (code, signal) => {
      const report = (): void => sink.exit(code ?? 128 + (signal ? osConstants.signals[signal] ?? 0 : 0))
      const timer = setTimeout(report, 200)
      child.once('close', () => { clearTimeout(timer); report() })
    })
  }
  const pgid = child.pid
  if (pgid !== undefined) {
    installExitHook()
    liveGroups.add(pgid)
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    pid: pgid,
    async stop(graceMs) {
      if (pgid === undefined || !liveGroups.has(pgid)) return
      if (child.exitCode === null && child.signalCode === null) {
        signalGroup(pgid, 'SIGTERM')
        const timer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), graceMs)
        await exited
        clearTimeout(timer)
      }
      // The leader is gone; what it left behind in its group (a child that ignored SIGTERM, or
      // outlived a leader that exited on its own) is killed now. The group id is not reused
      // while any member lives.
      signalGroup(pgid, 'SIGKILL')
      liveGroups.delete(pgid)
    },
  }
}
