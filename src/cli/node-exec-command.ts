/**
 * `kpe node exec NODE -- CMD...` and `kpe node exec --pod NS/NAME -- CMD...`: runs a command
 * inside a node's or pod's network namespace of a running `kpe up --dataplane kernel` (found in
 * DATA_DIR/kernel.json), as root of its user namespace: iptables-save, nft list ruleset,
 * conntrack -L, tcpdump -i ... The command's exit status becomes kpe's.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { NotFoundError, UsageError } from '../errors.js'
import { readKernelState, type KernelState } from '../kernel/index.js'
import { notHolderOf, nsenterArgv } from '../lab/index.js'
import type { CommandResult } from './command-result.js'

export const nodeExecHelp = `usage: kpe node exec NODE [--data-dir DIR] -- COMMAND [ARG...]
       kpe node exec --pod NAMESPACE/NAME [--data-dir DIR] -- COMMAND [ARG...]

Runs COMMAND inside NODE's (or the pod's) network namespace of the running
kpe up --dataplane kernel, e.g. iptables-save, nft list ruleset, conntrack -L, ip addr,
tcpdump -ni any. Exits with COMMAND's status.
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
  const [file, ...args] = nsenterArgv(pid, req.command)
  const child = spawn(file!, args, { stdio: 'inherit' })
  // Ctrl-C (tcpdump) reaches the command too; kpe waits for it and passes on its status.
  const ignore = (): void => {}
  process.on('SIGINT', ignore)
  try {
    const code = await new Promise<number>((done, fail) => {
      child.once('error', fail)
      child.once('exit', (c, signal) => done(c ?? (signal === 'SIGINT' ? 130 : 1)))
    })
    return { stdout: '', exitCode: code }
  } finally {
    process.off('SIGINT', ignore)
  }
}
