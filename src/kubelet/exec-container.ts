/**
 * UNSAFE, opt-in only (`allowExec`): runs a container's command as a real process on this
 * machine, with the caller's privileges and network. The process is expected to listen on its
 * containerPort on 127.0.0.1; the pod network table points there. SIGTERM on stop, SIGKILL
 * after the grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { PodIdentity } from './pod-replies.js'

export interface ExecHandle {
  readonly pid: number | undefined
  stop(graceMs: number): Promise<void>
}

export function startExecContainer(argv: readonly string[], pod: PodIdentity, env: Readonly<Record<string, string>>): ExecHandle {
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    stdio: 'ignore',
    env: { ...process.env, ...env, POD_NAME: pod.name, POD_NAMESPACE: pod.namespace, POD_IP: pod.podIP, NODE_NAME: pod.node },
  })
  child.on('error', () => {})
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    pid: child.pid,
    async stop(graceMs) {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}
