/**
 * Whether a PID named in a state file (kpe up's kernel.json) is really a namespace holder that
 * the named kpe process started: a `sleep` child of that process, in its user namespace. A stale
 * file (PIDs reused after kill -9) or a hand-written one must never send nsenter elsewhere.
 */
import { readFileSync, readlinkSync } from 'node:fs'
import { basename } from 'node:path'

function read(path: string, link = false): string | undefined {
  try {
    return link ? readlinkSync(path) : readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** The PPid: line of /proc/PID/status (robust to spaces and parentheses in the command name). */
function parentOf(pid: number): number | undefined {
  const m = /^PPid:\s*(\d+)$/m.exec(read(`/proc/${pid}/status`) ?? '')
  return m ? Number(m[1]) : undefined
}

/**
 * Why `pid` is not a holder started by `ownerPid` inside user namespace `userNs` (undefined when
 * it is). The owner must run the same program as this process (node, by name: kpe up may run under
 * another install of it), the holder must be its
 * child, be `sleep`, and live in `userNs`, which must not be this process's own user namespace.
 */
export function notHolderOf(pid: number, ownerPid: number, userNs: string): string | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 1 || !Number.isSafeInteger(ownerPid) || ownerPid <= 1) return `${pid} is not a holder PID`
  const ns = read(`/proc/${pid}/ns/user`, true)
  if (ns === undefined) return `process ${pid} is not running`
  if (ns !== userNs) return `process ${pid} is not in the user namespace ${userNs} (it is in ${ns})`
  if (ns === read('/proc/self/ns/user', true)) return `${userNs} is this process's own user namespace, not one kpe created`
  if (parentOf(pid) !== ownerPid) return `process ${pid} was not started by kpe process ${ownerPid} (its parent is ${parentOf(pid) ?? 'unknown'})`
  const comm = read(`/proc/${pid}/comm`)?.trim()
  if (comm !== 'sleep') return `process ${pid} is ${JSON.stringify(comm ?? '?')}, not a namespace holder (sleep)`
  const ownerExe = read(`/proc/${ownerPid}/exe`, true)
  if (ownerExe === undefined || basename(ownerExe) !== basename(process.execPath)) return `process ${ownerPid} is not kpe (it runs ${ownerExe ?? 'an unknown program'})`
  return undefined
}
