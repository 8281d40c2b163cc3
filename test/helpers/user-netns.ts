/**
 * A throwaway user + network namespace for tests (`unshare -rn`, no root needed), held by the
 * rootless lab's own holder process (src/lab/userns-holders.ts) and stopped by PID; commands enter
 * it with `nsenter`. Nothing in the root namespace changes.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { isInUserNamespace, nsenterArgv, runCommand, startUserNamespace, type NetnsRunner, type UserNamespaceHolder } from '../../src/lab/index.js'

export interface UserNetns {
  readonly pid: number
  readonly holder: UserNamespaceHolder
  /** Runs argv inside the namespace (as its root user). */
  readonly run: NetnsRunner
  close(): Promise<void>
}

/** Why `unshare -rn CMD...` cannot run here, or undefined when it can. */
export function userNetnsUnavailable(probe: readonly string[]): string | undefined {
  if (process.platform !== 'linux') return `user namespaces need Linux (this is ${process.platform})`
  const res = spawnSync('unshare', ['-rn', ...probe], { encoding: 'utf8', timeout: 10_000 })
  if (res.error) return `unshare is not available: ${res.error.message}`
  if (res.status !== 0) return `no user+network namespace here (unshare -rn ${probe.join(' ')}: ${(res.stderr || '').trim().split('\n')[0] || 'exit ' + res.status})`
  return undefined
}

/** Stops a holder by PID (only while it is still in its user namespace) and waits until it is gone. */
export async function stopHolder(pid: number, userNs: string): Promise<void> {
  if (!isInUserNamespace(pid, userNs)) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    return
  }
  for (let i = 0; i < 1000 && isInUserNamespace(pid, userNs); i++) await new Promise((r) => setTimeout(r, 5))
}

export async function openUserNetns(): Promise<UserNetns> {
  const holder = await startUserNamespace()
  const run: NetnsRunner = (argv, opts) => runCommand(nsenterArgv(holder.pid, argv), opts)
  return { pid: holder.pid, holder, run, close: () => stopHolder(holder.pid, holder.userNs) }
}

/** Alive and not a zombie (a killed process stays a zombie until its parent, maybe init, reaps it; it holds no namespace then). */
export function isLiveProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z'
  } catch {
    return false
  }
}

/** PIDs of the live processes in the user namespace `userNs` (`user:[N]`). */
export function liveInUserNamespace(userNs: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/user`) === userNs && isLiveProcess(pid)
    } catch {
      return false
    }
  })
}
