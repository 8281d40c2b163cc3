/**
 * A throwaway user + network namespace (`unshare -rn`, no root needed) held open by a `sleep`
 * this process starts and later stops by PID; commands enter it with `nsenter`. Nothing in the
 * root namespace changes. Shared by the conformance kernel rows and the nft golden-load test.
 */
import { spawn, spawnSync } from 'node:child_process'
import { runCommand, type NetnsRunner } from '../../src/lab/index.js'

export interface UserNetns {
  readonly pid: number
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

export async function openUserNetns(): Promise<UserNetns> {
  const holder = spawn('unshare', ['-rn', 'sleep', '600'], { stdio: 'ignore' })
  const pid = holder.pid
  if (pid === undefined) throw new Error('unshare -rn sleep: spawn failed')
  // unshare execs sleep only once the namespaces exist. Until /proc says the holder's network
  // namespace is not ours, nothing may run through it: nsenter would enter the root namespace.
  const netnsOf = (p: number | 'self'): string => spawnSync('readlink', [`/proc/${p}/ns/net`], { encoding: 'utf8' }).stdout.trim()
  const own = netnsOf('self')
  for (let i = 0; ; i++) {
    const theirs = netnsOf(pid)
    if (theirs !== '' && theirs !== own) break
    if (i > 500 || holder.exitCode !== null) throw new Error(`unshare -rn (pid ${pid}) did not enter a namespace of its own`)
    await new Promise((r) => setTimeout(r, 5))
  }
  const run: NetnsRunner = (argv, opts) => runCommand(['nsenter', '--preserve-credentials', '-U', '-n', '-t', String(pid), ...argv], opts)
  return {
    pid,
    run,
    async close(): Promise<void> {
      if (holder.exitCode !== null || holder.signalCode !== null) return
      const exited = new Promise((r) => holder.once('exit', r))
      process.kill(pid, 'SIGKILL')
      await exited
    },
  }
}
