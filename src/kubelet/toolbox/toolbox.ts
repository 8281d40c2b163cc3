/**
 * The built-in toolbox every emulated pod runs commands with (kubectl exec, kubectl run -i,
 * kubectl cp): the command table, the 127 answer for anything else, and runToolbox, the one
 * entry that runs an argv in a container's context. Nothing here starts a host process.
 */
import { cat, echo, env, falseCommand, hostname, ip, ls, mkdir, printenv, rm, sleepCommand, test, trueCommand } from './basic-commands.js'
import type { Command, CommandIO, CommandScope, ToolboxContext } from './context.js'
import { getent, nslookup } from './dns-commands.js'
import { curl, wget } from './http-commands.js'
import { shellCommand, type ShellRunner } from './shell.js'
import { tar } from './tar-command.js'

const table = new Map<string, Command>([
  ['cat', cat], ['curl', curl], ['echo', echo], ['env', env], ['false', falseCommand], ['getent', getent], ['hostname', hostname],
  ['ip', ip], ['ls', ls], ['mkdir', mkdir], ['nslookup', nslookup], ['printenv', printenv], ['rm', rm], ['sleep', sleepCommand],
  ['tar', tar], ['test', test], ['[', test], ['true', trueCommand], ['wget', wget],
])

const runner: ShellRunner = {
  lookup: (name) => (name === 'sh' || name === 'ash' || name === 'bash' ? shell : table.get(name)),
  notFound: (name) => `kpe toolbox: ${name}: command not found (this pod is emulated by kpe; its built-in toolbox has: ${toolboxCommands().join(' ')}; see docs/kubectl.md)\n`,
}
const shell = shellCommand(runner)

/** The command names the toolbox answers to, sorted. */
export function toolboxCommands(): string[] {
  return ['sh', 'exit', 'cd', 'export', 'pwd', 'read', ...table.keys()].filter((n) => n !== '[').sort()
}

/** Whether argv[0] names a toolbox command (by its base name: /bin/sh is sh). */
export function isToolboxCommand(word: string | undefined): boolean {
  if (word === undefined) return false
  const base = word.slice(word.lastIndexOf('/') + 1)
  return runner.lookup(base) !== undefined || ['exit', 'cd', 'export', 'pwd', 'read'].includes(base)
}

/** Runs argv in a container: a shell line of one command (no word is re-split or expanded). */
export async function runToolbox(argv: readonly string[], io: CommandIO, ctx: ToolboxContext): Promise<number> {
  const scope: CommandScope = { ctx, vars: new Map(ctx.env), cwd: '/' }
  const name = argv[0]
  if (name === undefined) return 0
  const base = name.slice(name.lastIndexOf('/') + 1)
  const command = runner.lookup(base)
  if (command) {
    try {
      return await command(argv.slice(1), io, scope)
    } catch (e) {
      io.stderr(`${base}: ${e instanceof Error ? e.message : String(e)}\n`)
      return 1
    }
  }
  if (base === 'exit') {
    const n = Number(argv[1] ?? 0)
    return Number.isInteger(n) ? ((n % 256) + 256) % 256 : 2
  }
  if (['cd', 'export', 'pwd', 'read'].includes(base)) return shell(['-c', argv.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ')], io, scope)
  io.stderr(runner.notFound(name))
  return 127
}
