#!/usr/bin/env node
/**
 * kpe's entry point: picks the command, runs it, prints its result or its error, and exits.
 * The only place that calls process.exit; exit codes: 0 ok, 1 operation failed, 2 usage/input.
 */
import { InputError, KpeError, NotFoundError, ParseError, UsageError } from '../errors.js'
import { runRulesCommand } from './rules-command.js'
import { runTraceCommand } from './trace-command.js'
import { runUpCommand } from './up-command.js'
import { runKubeconfigCommand } from './kubeconfig-command.js'
import { runConnectionsCommand } from './connections-command.js'
import { runLabCommandWithStatus } from './lab-command.js'
import { runPortForwardCommand } from './port-forward-command.js'
import { runStoreCommand } from './store-command.js'
import { runNodeCommand } from './node-command.js'
import type { CommandResult } from './command-result.js'

interface Command {
  readonly summary: string
  run(argv: string[]): Promise<string | CommandResult> | string
}

const commands: Readonly<Record<string, Command>> = {
  rules: { summary: 'render the iptables rules kube-proxy would load on a node', run: runRulesCommand },
  trace: { summary: 'explain where a packet goes on a node, rule by rule', run: runTraceCommand },
  up: { summary: 'start a cluster on this machine: control plane, node agents, entry points', run: runUpCommand },
  kubeconfig: { summary: 'print a kubeconfig for the control plane running from a data dir', run: runKubeconfigCommand },
  connections: { summary: 'list recent connections through kpe up and the decision behind each', run: runConnectionsCommand },
  'port-forward': { summary: 'forward local loopback ports to a pod or Service of the running kpe up', run: runPortForwardCommand },
  store: { summary: 'check a data dir\'s store, or repair it after a corrupt record (keeps what precedes it)', run: runStoreCommand },
  node: { summary: 'stop (as a crash) or start one node\'s kubelet and kube-proxy in the running kpe up', run: runNodeCommand },
  lab: { summary: 'build the cluster in network namespaces and load its rules into the kernel (root)', run: runLabCommandWithStatus },
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length))
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  return `usage: kpe <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\nRun 'kpe <command> --help' for a command's flags.\n`
}

export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError || err instanceof InputError || err instanceof ParseError || err instanceof NotFoundError ? 2 : 1
}

export function formatError(command: string, err: unknown, debug: boolean): string {
  if (!(err instanceof KpeError)) {
    const e = err instanceof Error ? err : new Error(String(err))
    return `kpe ${command}: internal error: ${e.message}\n${debug ? `${e.stack}\n` : '  this is a bug in kpe; run again with --debug and report the output\n'}`
  }
  let s = `kpe ${command}: ${err.message}\n`
  for (const d of err.details) s += `  ${d}\n`
  if (err.hint) s += `  hint: ${err.hint}\n`
  if (debug) {
    s += `  code: ${err.code}\n${err.stack ?? ''}\n`
    for (let c: unknown = err.cause; c instanceof Error; c = c.cause) s += `caused by: ${c.stack ?? c.message}\n`
  }
  return s
}

/** node:util parseArgs reports bad flags as TypeErrors with ERR_PARSE_ARGS_* codes. */
function isParseArgsError(err: unknown): err is Error {
  const code: unknown = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage())
    return name === undefined ? 2 : 0
  }
  const command = commands[name]
  const debug = rest.includes('--debug')
  if (!command) {
    process.stderr.write(`kpe: unknown command "${name}"\n${usage()}`)
    return 2
  }
  try {
    const out = await command.run(rest.filter((a) => a !== '--debug'))
    if (typeof out === 'string') {
      process.stdout.write(out)
      return 0
    }
    process.stdout.write(out.stdout)
    return out.exitCode
  } catch (caught) {
    const err = isParseArgsError(caught) ? new UsageError(caught.message, { hint: `run 'kpe ${name} --help' for its flags` }) : caught
    process.stderr.write(formatError(name, err, debug))
    return exitCodeOf(err)
  }
}

process.exitCode = await main(process.argv.slice(2))
