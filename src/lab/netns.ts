/**
 * Throwaway network namespaces for the kernel lab, and `iptables-restore --test` inside one.
 * Safety: this module only ever runs `ip netns add|del|exec` on names it generated or validated,
 * never touches links, routes, addresses or rules of the root namespace, never uses `ip -all`,
 * and spawns commands without a shell. Needs root; see docs of `missingLabPrerequisites`.
 */

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { accessSync, constants as fsConstants } from 'node:fs'
import { delimiter, join } from 'node:path'

import { ExecError, UsageError } from '../errors.js'
import type { IPFamily } from '../net/index.js'

export type IptablesBackend = 'nft' | 'legacy'

export interface ExecResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly input?: string
  /** 'throw' (default): a non-zero exit becomes an ExecError. 'return': the caller inspects `code`. */
  readonly onNonZeroExit?: 'throw' | 'return'
  readonly timeoutMs?: number
}

const defaultTimeoutMs = 30_000

/** Prefixes are short, lowercase and cannot be mistaken for an option or a path. */
const prefixPattern = /^[a-z][a-z0-9-]{0,15}$/
/** Exactly the shape createNetns produces: `${prefix}-${pid}-${6 hex}`. */
const generatedNamePattern = /^[a-z][a-z0-9-]{0,15}-[0-9]+-[0-9a-f]{6}$/

function assertGeneratedName(name: string): void {
  if (!generatedNamePattern.test(name)) {
    throw new UsageError(`refusing to operate on network namespace ${JSON.stringify(name)}: not a name createNetns made`, {
      hint: 'pass the name returned by createNetns()',
    })
  }
}

/** Runs argv[0] with argv[1..] (no shell), feeding `input` on stdin. Spawn errors, signals and timeouts throw ExecError. */
export async function runCommand(argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv
  if (file === undefined) throw new UsageError('runCommand: empty argv')
  const command = argv.join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? defaultTimeoutMs,
      killSignal: 'SIGKILL',
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    // A child that exits before reading all of stdin makes the write fail with EPIPE; its exit status tells the story.
    child.stdin.on('error', () => {})
    child.on('error', (err) => {
      reject(new ExecError(command, null, err.message, { hint: `is ${file} installed and on PATH?` }))
    })
    child.on('close', (code, signal) => {
      const result: ExecResult = {
        code: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }
      if (code === null) {
        reject(new ExecError(command, null, result.stderr || `killed by ${signal ?? 'signal'} (timeout ${opts.timeoutMs ?? defaultTimeoutMs} ms?)`))
      } else if (code !== 0 && (opts.onNonZeroExit ?? 'throw') === 'throw') {
        reject(new ExecError(command, code, result.stderr))
      } else {
        resolve(result)
      }
    })
    child.stdin.end(opts.input ?? '')
  })
}

/** Creates a namespace named `${prefix}-${pid}-${random}`; `ip netns add` fails rather than adopt an existing one. */
export async function createNetns(prefix: string): Promise<string> {
  if (!prefixPattern.test(prefix)) {
    throw new UsageError(`invalid network namespace prefix ${JSON.stringify(prefix)}`, {
      hint: 'use 1-16 characters of [a-z0-9-], starting with a letter',
    })
  }
  const name = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`
  await runCommand(['ip', 'netns', 'add', name])
  return name
}

/** Deletes exactly this one namespace. Processes still inside keep it alive until they exit (KERNEL-LAB-NOTES gotcha 12). */
export async function deleteNetns(name: string): Promise<void> {
  assertGeneratedName(name)
  await runCommand(['ip', 'netns', 'del', name])
}

/** Names of all namespaces `ip netns list` knows, in its order. */
export async function listNetns(): Promise<string[]> {
  const { stdout } = await runCommand(['ip', 'netns', 'list'])
  // Lines look like "name" or "name (id: 3)".
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '')
}

/** Creates a namespace, runs fn in it, and deletes it afterwards even when fn throws. */
export async function withNetns<T>(prefix: string, fn: (name: string) => Promise<T>): Promise<T> {
  const name = await createNetns(prefix)
  let result: T
  try {
    result = await fn(name)
  } catch (err) {
    // Still delete, but let fn's error win over a deletion error.
    await deleteNetns(name).catch(() => {})
    throw err
  }
  await deleteNetns(name)
  return result
}

/** Runs `ip netns exec NAME argv...` without a shell. */
export async function runInNetns(name: string, argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  assertGeneratedName(name)
  if (argv.length === 0) throw new UsageError('runInNetns: empty argv')
  return runCommand(['ip', 'netns', 'exec', name, ...argv], opts)
}

export interface RestoreTestOptions {
  readonly family: IPFamily
  /** Unset: the distribution's default `iptables-restore`; otherwise the `-nft`/`-legacy` variant. */
  readonly backend?: IptablesBackend
  /** Prefix of the throwaway namespace; default 'kpe-rt'. */
  readonly netnsPrefix?: string
}

export interface RestoreTestResult extends ExecResult {
  readonly command: string
  readonly isAccepted: boolean
  /** 1-based line of the input the tool complained about, when its stderr names one. */
  readonly failedLine: number | undefined
}

export function restoreCommand(opts: RestoreTestOptions): string {
  const base = opts.family === 'IPv4' ? 'iptables' : 'ip6tables'
  return opts.backend === undefined ? `${base}-restore` : `${base}-${opts.backend}-restore`
}

/**
 * Parses the input line number from iptables-restore's stderr:
 * "Error occurred at line: 22" (1.8.x) or "line 22 failed" (older legacy builds).
 */
export function parseRestoreFailedLine(stderr: string): number | undefined {
  const m = /Error occurred at line: (\d+)/.exec(stderr) ?? /line (\d+) failed/.exec(stderr)
  return m?.[1] === undefined ? undefined : Number(m[1])
}

/**
 * Runs `iptables-restore --test` (or a variant) in a fresh namespace with `text` on stdin.
 * A rejection is the answer, not a failure: it is returned with isAccepted false.
 * Note: the nft backend's --test does not resolve jump targets; legacy's does (see test/e2e/restore-test.test.ts).
 */
export async function iptablesRestoreTest(text: string, opts: RestoreTestOptions): Promise<RestoreTestResult> {
  const tool = restoreCommand(opts)
  return withNetns(opts.netnsPrefix ?? 'kpe-rt', async (name) => {
    const result = await runInNetns(name, [tool, '--test'], { input: text, onNonZeroExit: 'return' })
    return {
      ...result,
      command: `${tool} --test`,
      isAccepted: result.code === 0,
      failedLine: result.code === 0 ? undefined : parseRestoreFailedLine(result.stderr),
    }
  })
}

/** An ExecError for a rejected restore, whose details show the failing input line with two lines of context. */
export function restoreRejectionError(text: string, result: RestoreTestResult): ExecError {
  const details: string[] = []
  if (result.failedLine !== undefined) {
    const lines = text.split('\n')
    const first = Math.max(1, result.failedLine - 2)
    const last = Math.min(lines.length, result.failedLine + 2)
    const width = String(last).length
    for (let n = first; n <= last; n++) {
      details.push(`${n === result.failedLine ? '>' : ' '} ${String(n).padStart(width)}  ${lines[n - 1] ?? ''}`)
    }
  }
  return new ExecError(result.command, result.code, result.stderr, { details })
}

/** True when an executable `command` is in one of PATH's directories. */
export function isOnPath(command: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue
    try {
      accessSync(join(dir, command), fsConstants.X_OK)
      return true
    } catch {
      // not in this directory
    }
  }
  return false
}

/**
 * Why the lab cannot run here, or undefined when it can: needs Linux, root, `ip` and the
 * given restore tools (default: iptables-restore) on PATH. It does not probe namespace creation.
 */
export function missingLabPrerequisites(opts: { readonly commands?: readonly string[]; readonly rootless?: boolean } = {}): string | undefined {
  if (process.platform !== 'linux' || typeof process.getuid !== 'function') {
    return `the kernel lab needs Linux (this is ${process.platform})`
  }
  // A rootless lab needs no root, only a user namespace (checked by rootlessUnavailable).
  if (!opts.rootless && process.getuid() !== 0) return `the kernel lab needs root (uid is ${process.getuid()}); without root, use --rootless`
  const missing = ['ip', ...(opts.commands ?? ['iptables-restore'])].filter((c) => !isOnPath(c))
  if (missing.length > 0) {
    return `missing on PATH: ${missing.join(', ')} (apt-get install -y iproute2 iptables)`
  }
  return undefined
}
