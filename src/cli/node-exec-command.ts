/**
 * `kpe node exec NODE -- CMD...` and `kpe node exec --pod NS/NAME -- CMD...`: runs a command
 * inside a node's or pod's network namespace of a running `kpe up --dataplane kernel` (found in
 * DATA_DIR/kernel.json), as root of its user namespace: iptables-save, nft list ruleset,
 * conntrack -L, tcpdump -i ... The command's exit status becomes kpe's.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { NotFoundError, UsageError } from '../errors.js'
import { packetCaptureScript, readKernelState, splitTcpdump, type KernelState, type TcpdumpSplit } from '../kernel/index.js'
import { isOnPath, notHolderOf, nsenterArgv } from '../lab/index.js'
import type { CommandResult } from './command-result.js'

export const nodeExecHelp = `usage: kpe node exec NODE [--data-dir DIR] -- COMMAND [ARG...]
       kpe node exec --pod NAMESPACE/NAME [--data-dir DIR] -- COMMAND [ARG...]

Runs COMMAND inside NODE's (or the pod's) network namespace of the running
kpe up --dataplane kernel, e.g. iptables-save, nft list ruleset, conntrack -L, ip addr,
tcpdump -ni any. Exits with COMMAND's status. tcpdump is run as a capture inside the
namespace piped into \`tcpdump -r -\` outside it (see docs/differences.md); without -i it
captures on any.
`

/** The holder PID whose namespace the command enters; refuses names the state does not hold. */
export function execTarget(state: KernelState, target: { readonly node?: string; readonly pod?: string }): { pid: number; what: string } {
  if (target.pod !== undefined) {
    const pid = Object.hasOwn(state.pods, target.pod) ? state.pods[target.pod] : undefined
    if (pid === undefined) throw new NotFoundError(`pod ${target.pod} has no network namespace in the kernel dataplane`, { hint: `pods with one: ${Object.keys(state.pods).join(', ') || '(none)'}` })
    return { pid, what: `pod ${target.pod}` }
  }
  const pid = Object.hasOwn(state.nodes, target.node ?? '') ? state.nodes[target.node ?? ''] : undefined
  if (pid === undefined) throw new NotFoundError(`node ${JSON.stringify(target.node ?? '')} has no network namespace in the kernel dataplane`, { hint: `nodes: ${Object.keys(state.nodes).join(', ')}` })
  return { pid, what: `node ${target.node}` }
}

/** argv of `kpe node exec` (after "exec"): flags and NODE before `--`, the command after. */
export function parseNodeExec(argv: readonly string[]): { node?: string; pod?: string; dataDir?: string; command: string[]; help: boolean } {
  const dash = argv.indexOf('--')
  const head = dash < 0 ? [...argv] : argv.slice(0, dash)
  const command = dash < 0 ? [] : argv.slice(dash + 1)
  const { values, positionals } = parseArgs({ args: head, options: { pod: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true })
  if (values.help) return { command: [], help: true }
  if (values.pod !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(values.pod)) {
    throw new UsageError(`--pod ${JSON.stringify(values.pod)}: not NAMESPACE/NAME`)
  }
  if ((values.pod === undefined) === (positionals.length !== 1) || positionals.length > 1) {
    throw new UsageError(values.pod === undefined ? 'kpe node exec takes exactly one NODE (or --pod NAMESPACE/NAME)' : '--pod and NODE exclude each other', { hint: 'kpe node exec node-a -- iptables-save' })
  }
  if (command.length === 0) throw new UsageError('kpe node exec: no command after --', { hint: 'kpe node exec node-a -- conntrack -L' })
  return { ...(positionals[0] !== undefined ? { node: positionals[0] } : {}), ...(values.pod !== undefined ? { pod: values.pod } : {}), ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}), command, help: false }
}

export async function runNodeExec(argv: readonly string[]): Promise<CommandResult | string> {
  const req = parseNodeExec(argv)
  if (req.help) return nodeExecHelp
  const state = readKernelState(resolve(req.dataDir ?? '.kpe'))
  const { pid, what } = execTarget(state, req)
  // A stale or hand-written kernel.json must never send nsenter into a process kpe did not start.
  const why = notHolderOf(pid, state.pid, state.userNs)
  if (why !== undefined) {
    throw new NotFoundError(`the network namespace of ${what} is not kpe's: ${why}`, { hint: 'is kpe up --dataplane kernel still running?' })
  }
  const tcpdump = splitTcpdump(req.command)
  const exitCode = tcpdump === undefined ? await runInside(pid, req.command) : await runCapture(pid, tcpdump)
  return { stdout: '', exitCode }
}

/** Waits for a child; a Ctrl-C reaches it too (same process group), and kpe passes on its status. */
async function statusOf(child: ChildProcess): Promise<number> {
  const ignore = (): void => {}
  process.on('SIGINT', ignore)
  try {
    return await new Promise<number>((done, fail) => {
      child.once('error', fail)
      child.once('exit', (c, signal) => done(c ?? (signal === 'SIGINT' ? 130 : 1)))
    })
  } finally {
    process.off('SIGINT', ignore)
  }
}

function runInside(pid: number, command: readonly string[]): Promise<number> {
  const [file, ...args] = nsenterArgv(pid, command)
  return statusOf(spawn(file!, args, { stdio: 'inherit' }))
}

/**
 * tcpdump split in two: the capture inside the namespace writes pcap into a pipe, the real
 * tcpdump reads it outside as the invoking user (setgroups, which tcpdump insists on, is denied
 * inside). The capture is stopped (by its PID) when tcpdump ends; a failed capture's status wins.
 */
async function runCapture(pid: number, split: TcpdumpSplit): Promise<number> {
  // Checked before anything starts: a capture must not be left running without its reader.
  const missing = ['python3', 'tcpdump'].filter((c) => !isOnPath(c))
  if (missing.length > 0) {
    throw new NotFoundError(`kpe node exec -- tcpdump captures with python3 inside the namespace and reads with tcpdump outside: missing on PATH: ${missing.join(', ')}`, { hint: 'apt-get install -y python3 tcpdump' })
  }
  const [file, ...args] = nsenterArgv(pid, ['python3', '-c', packetCaptureScript, split.iface])
  const capture = spawn(file!, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const captured = statusOf(capture)
  const reader = spawn('tcpdump', split.readerArgs, { stdio: [capture.stdout, 'inherit', 'inherit'] })
  const read = await statusOf(reader)
  if (capture.exitCode === null && capture.signalCode === null) {
    capture.kill('SIGTERM')
    await captured.catch(() => 0)
    return read
  }
  const status = await captured
  return status !== 0 ? status : read
}
