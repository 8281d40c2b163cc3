/**
 * Rootless labs: one user namespace (`unshare -rn`, no root needed) whose network namespaces
 * are each held open by a `sleep` process instead of a name under /run/netns. Commands enter a
 * namespace with `nsenter -U -n -t PID`; links move between namespaces by holder PID. Nothing is
 * created in the root namespace, and every holder is stopped by PID after checking that it still
 * lives in the lab's own user namespace.
 */
import { spawn, spawnSync } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { ExecError } from '../errors.js'

/** argv run inside the network namespace held by `pid`, as root of the lab's user namespace. */
export function nsenterArgv(pid: number, argv: readonly string[]): string[] {
  return ['nsenter', '--preserve-credentials', '-U', '-n', '-t', String(pid), ...argv]
}

function nsOf(pid: number | 'self', kind: 'net' | 'user'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`)
  } catch {
    return undefined
  }
}

/**
 * Waits until `pid` has a network namespace of its own: before that, nsenter would enter the
 * namespace it was started from (for the first holder: the root namespace).
 */
async function awaitOwnNetns(pid: number, notIn: readonly (string | undefined)[], exited: () => boolean, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    const ns = nsOf(pid, 'net')
    if (ns !== undefined && !notIn.includes(ns)) return
    if (i > 1000 || exited()) throw new ExecError(what, null, `pid ${pid} did not enter a network namespace of its own`)
    await sleep(5)
  }
}

export interface UserNamespaceHolder {
  readonly pid: number
  /** `/proc/PID/ns/user` of the lab's user namespace: the identity every holder is checked against. */
  readonly userNs: string
}

export interface HolderOptions {
  /**
   * The holder gets SIGKILL when the process that started it ends, even by kill -9 (a parent-death
   * signal, set by `setpriv --pdeathsig` and kept across the exec chain): `kpe up --dataplane
   * kernel`'s namespaces must not outlive it. Lab holders outlive `kpe lab up` and leave it unset.
   */
  readonly dieWithParent?: boolean
}

/** setpriv prefix that makes the exec'd holder die with this process. */
function holderArgv(argv: readonly string[], o: HolderOptions): string[] {
  return o.dieWithParent ? ['setpriv', '--pdeathsig', 'KILL', ...argv] : [...argv]
}

/** Starts the user namespace (and its first network namespace), held by `sleep`. */
export async function startUserNamespace(o: HolderOptions = {}): Promise<UserNamespaceHolder> {
  const [file, ...args] = holderArgv(['unshare', '-rn', 'sleep', 'infinity'], o)
  const child = spawn(file!, args, { stdio: 'ignore', detached: true })
  child.unref()
  const pid = child.pid
  if (pid === undefined) throw new ExecError('unshare -rn sleep infinity', null, 'spawn failed')
  await awaitOwnNetns(pid, [nsOf('self', 'net')], () => child.exitCode !== null, 'unshare -rn')
  const userNs = nsOf(pid, 'user')
  if (userNs === undefined || userNs === nsOf('self', 'user')) throw new ExecError('unshare -rn', null, 'no user namespace of its own')
  return { pid, userNs }
}

/** Starts one more network namespace inside the lab's user namespace; returns its holder's PID. */
export async function startNetnsHolder(user: UserNamespaceHolder, o: HolderOptions = {}): Promise<number> {
  // setpriv, nsenter and unshare exec in place, so the PID is the sleep's own.
  const [file, ...args] = holderArgv(['nsenter', '--preserve-credentials', '-U', '-t', String(user.pid), 'unshare', '-n', 'sleep', 'infinity'], o)
  const child = spawn(file!, args, { stdio: 'ignore', detached: true })
  child.unref()
  const pid = child.pid
  if (pid === undefined) throw new ExecError('nsenter unshare -n sleep infinity', null, 'spawn failed')
  await awaitOwnNetns(pid, [nsOf('self', 'net'), nsOf(user.pid, 'net')], () => child.exitCode !== null, 'unshare -n')
  return pid
}

/** True when `pid` is alive and lives in the lab's user namespace (so it is the lab's own process). */
export function isInUserNamespace(pid: number, userNs: string): boolean {
  return nsOf(pid, 'user') === userNs
}

/** Why a rootless lab cannot be built here, or undefined when it can (probes `unshare -rn`). */
export function rootlessUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `a rootless lab needs Linux (this is ${process.platform})`
  const res = spawnSync('unshare', ['-rn', 'true'], { encoding: 'utf8', timeout: 10_000 })
  if (res.error) return `unshare is not available: ${res.error.message} (apt-get install util-linux)`
  if (res.status !== 0) {
    const why = (res.stderr || '').trim().split('\n')[0] || `exit ${res.status}`
    return `this user cannot create a user namespace (unshare -rn: ${why}); check /proc/sys/user/max_user_namespaces (must be > 0), kernel.unprivileged_userns_clone and AppArmor's kernel.apparmor_restrict_unprivileged_userns (must be 0)`
  }
  return undefined
}
