/**
 * Process plumbing for the peer benchmarks: finding (or, as root, installing) peer tools,
 * starting pinned processes that are all tracked by PID and stopped on every exit path,
 * free loopback ports, waiting for listeners, and CPU time from /proc/PID/stat.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'

/** Every process the harness started and has not yet seen exit. */
const running = new Set<ChildProcess>()

export function spawnTracked(cmd: string, args: readonly string[], opts: { readonly cpus?: string; readonly stdin?: 'pipe' | 'ignore'; readonly env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  const [file, argv] = opts.cpus !== undefined && hasCommand('taskset') ? ['taskset', ['-c', opts.cpus, cmd, ...args]] : [cmd, [...args]]
  const child = spawn(file, argv as string[], { stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'], env: opts.env ?? process.env })
  running.add(child)
  child.once('exit', () => running.delete(child))
  // Drain stdout so a chatty peer never blocks on a full pipe; callers add their own listeners.
  child.stdout?.on('data', () => {})
  // Keep stderr for failure messages without letting a full pipe block the child.
  let err = ''
  child.stderr?.on('data', (b: Buffer) => { if (err.length < 4000) err += b.toString() })
  ;(child as ChildProcess & { stderrText: () => string }).stderrText = () => err
  return child
}

export function stderrOf(child: ChildProcess): string {
  return (child as ChildProcess & { stderrText?: () => string }).stderrText?.() ?? ''
}

/** SIGTERM by PID, then SIGKILL if it has not exited within graceMs. */
export async function stopProcess(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try { process.kill(child.pid, 'SIGTERM') } catch { return }
  const timer = setTimeout(() => { try { if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL') } catch { /* gone */ } }, graceMs)
  await exited
  clearTimeout(timer)
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stopProcess(c)))
}

/** Synchronous last resort (process 'exit' handler): SIGKILL by PID. */
export function killAllNow(): void {
  for (const c of running) if (c.pid !== undefined) try { process.kill(c.pid, 'SIGKILL') } catch { /* gone */ }
}

const commandCache = new Map<string, boolean>()
export function hasCommand(cmd: string): boolean {
  let v = commandCache.get(cmd)
  if (v === undefined) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
      v = true
    } catch {
      v = false
    }
    commandCache.set(cmd, v)
  }
  return v
}

/** The Debian package that provides each peer command. */
const packageOf: Record<string, string> = { socat: 'socat', haproxy: 'haproxy', nginx: 'nginx-light', iperf3: 'iperf3', wrk: 'wrk' }

/** Finds the commands; as root, installs the missing ones with apt-get. Returns why not, or undefined. */
export function ensureTools(cmds: readonly string[]): string | undefined {
  const missing = cmds.filter((c) => !hasCommand(c))
  if (missing.length === 0) return undefined
  if (process.getuid?.() !== 0) return `missing ${missing.join(', ')} (not root, so not installed; apt-get install ${missing.map((c) => packageOf[c] ?? c).join(' ')})`
  process.stderr.write(`kpe bench: installing ${missing.join(', ')} with apt-get\n`)
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing.map((c) => packageOf[c] ?? c)], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  } catch (e) {
    return `apt-get install failed: ${e instanceof Error ? e.message : String(e)}`
  }
  for (const c of missing) commandCache.delete(c)
  const still = cmds.filter((c) => !hasCommand(c))
  return still.length ? `missing ${still.join(', ')} after apt-get install` : undefined
}

/** A port that was free on 127.0.0.1 a moment ago (for peers that cannot report their own). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`process exited before listening on ${port}: ${stderrOf(child).trim()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port })
      s.once('connect', () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`)
    await sleep(50)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

let clkTck: number | undefined
/** utime+stime (including reaped children) of a process, in seconds, from /proc/PID/stat. */
export function procCpuSeconds(pid: number): number {
  clkTck ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name; utime is field 14, stime 15, cutime 16, cstime 17.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const f = (n: number): number => Number(rest[n - 3])
  return (f(14) + f(15) + f(16) + f(17)) / clkTck
}

/** Runs a load generator to completion, returning stdout; rejects on a non-zero exit. */
export function runToEnd(cmd: string, args: readonly string[], opts: { readonly cpus?: string; readonly timeoutMs: number }): Promise<string> {
  const child = spawnTracked(cmd, args, opts.cpus !== undefined ? { cpus: opts.cpus } : {})
  let out = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { void stopProcess(child, 500) }, opts.timeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else reject(new Error(`${cmd} exited ${code ?? signal}: ${stderrOf(child).trim() || out.trim().slice(-500)}`))
    })
  })
}
