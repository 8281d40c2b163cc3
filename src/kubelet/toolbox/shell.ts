/**
 * The toolbox's `sh`: runs parsed scripts (shell-syntax.ts) over the command table, with the
 * builtins a script needs (cd, exit, export, unset, pwd) and redirections into the container's
 * in-memory files. A pipe runs its commands one after the other, each reading what the one
 * before wrote (enough for `tar cf - x | tail`-style one-liners; nothing streams). `sh` with no
 * script reads one from stdin, or line by line with a prompt on a terminal.
 */
import { Readable } from 'node:stream'
import { readAll, type Command, type CommandIO, type CommandScope } from './context.js'
import { FsError } from './memory-filesystem.js'
import { expandWord, parseScript, ShellSyntaxError, type Pipeline, type Script, type SimpleCommand } from './shell-syntax.js'

/** `exit N` unwinds the script that ran it. */
class ExitRequest {
  constructor(readonly code: number) {}
}

export interface ShellRunner {
  /** The command table, resolved lazily so `sh` can be in it. */
  readonly lookup: (name: string) => Command | undefined
  /** The message and exit code for a command that is not in the table. */
  readonly notFound: (name: string) => string
}

interface ScriptState {
  status: number
}

function basename(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1)
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

async function runSimple(cmd: SimpleCommand, io: CommandIO, scope: CommandScope, st: ScriptState, runner: ShellRunner): Promise<number> {
  const lookup = (name: string): string | undefined => (name === '?' ? String(st.status) : scope.vars.get(name))
  const words = cmd.words.flatMap((w) => expandWord(w, lookup))
  const assigned = cmd.assignments.map((a) => [a.name, expandWord(a.value, lookup).join(' ')] as const)
  if (words.length === 0) {
    for (const [k, v] of assigned) scope.vars.set(k, v)
    return 0
  }
  let stdin = io.stdin
  let stdout = io.stdout
  let stderr = io.stderr
  const files: { path: string; append: boolean; chunks: Buffer[] }[] = []
  for (const r of cmd.redirects) {
    if (r.op === '>&1') { stderr = stdout; continue }
    if (r.op === '>&2') { stdout = stderr; continue }
    const target = expandWord(r.target, lookup).join(' ')
    if (r.op === '<') {
      try {
        stdin = Readable.from([scope.ctx.files.read(MemoryFilesystemPath(target, scope))])
      } catch (e) {
        io.stderr(`sh: can't open '${target}': ${e instanceof FsError ? e.why : errorText(e)}\n`)
        return 1
      }
      continue
    }
    const sink = target === '/dev/null' ? undefined : { path: MemoryFilesystemPath(target, scope), append: r.op === '>>', chunks: [] as Buffer[] }
    if (sink) files.push(sink)
    const write = (d: string | Buffer): void => { sink?.chunks.push(Buffer.isBuffer(d) ? d : Buffer.from(d)) }
    if (r.fd === 1) stdout = write
    else stderr = write
  }
  const name = words[0]!
  const args = words.slice(1)
  const saved = assigned.map(([k]) => [k, scope.vars.get(k)] as const)
  for (const [k, v] of assigned) scope.vars.set(k, v)
  let code: number
  try {
    code = await runWord(name, args, { ...io, stdin, stdout, stderr }, scope, st, runner)
  } finally {
    for (const [k, v] of saved) if (v === undefined) scope.vars.delete(k); else scope.vars.set(k, v)
  }
  for (const f of files) {
    try {
      scope.ctx.files.write(f.path, Buffer.concat(f.chunks), { append: f.append })
    } catch (e) {
      io.stderr(`sh: can't create ${f.path}: ${e instanceof FsError ? e.why : errorText(e)}\n`)
      code = 1
    }
  }
  return code
}

function MemoryFilesystemPath(path: string, scope: CommandScope): string {
  return path.startsWith('/') ? path : `${scope.cwd.replace(/\/$/, '')}/${path}`
}

async function runWord(name: string, args: readonly string[], io: CommandIO, scope: CommandScope, st: ScriptState, runner: ShellRunner): Promise<number> {
  switch (name) {
    case 'exit': {
      const n = args[0] === undefined ? st.status : Number(args[0])
      throw new ExitRequest(Number.isInteger(n) ? ((n % 256) + 256) % 256 : 2)
    }
    case 'cd': {
      const to = MemoryFilesystemPath(args[0] ?? scope.vars.get('HOME') ?? '/', scope)
      if (scope.ctx.files.stat(to)?.kind !== 'dir') {
        io.stderr(`sh: cd: can't cd to ${args[0] ?? '~'}: No such file or directory\n`)
        return 2
      }
      scope.cwd = to.length > 1 ? to.replace(/\/+$/, '') : to
      return 0
    }
    case 'export':
      for (const a of args) {
        const eq = a.indexOf('=')
        if (eq > 0) scope.vars.set(a.slice(0, eq), a.slice(eq + 1))
      }
      return 0
    case 'unset':
      for (const a of args) scope.vars.delete(a)
      return 0
    case 'pwd':
      io.stdout(`${scope.cwd}\n`)
      return 0
    case 'read': {
      const line = io.stdin ? await readLine(io.stdin) : undefined
      const names = args.filter((a) => !a.startsWith('-'))
      const words = (line ?? '').split(/[ \t]+/).filter((w) => w !== '')
      names.forEach((n, k) => scope.vars.set(n, k === names.length - 1 ? words.slice(k).join(' ') : words[k] ?? ''))
      return line === undefined ? 1 : 0
    }
  }
  const command = runner.lookup(basename(name))
  if (!command) {
    io.stderr(runner.notFound(name))
    return 127
  }
  try {
    return await command(args, io, scope)
  } catch (e) {
    if (e instanceof ExitRequest) throw e
    io.stderr(`${basename(name)}: ${errorText(e)}\n`)
    return 1
  }
}

/**
 * One line of stdin for `read`, leaving the rest for whoever reads next: bytes after the newline
 * are put back with unshift, as a shell's read(2) one byte at a time would leave them.
 */
function readLine(stdin: Readable): Promise<string | undefined> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0)
    const finish = (line: string | undefined, rest: Buffer): void => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      stdin.pause()
      if (rest.length > 0) stdin.unshift(rest)
      resolve(line)
    }
    const onData = (c: Buffer | string): void => {
      buffered = Buffer.concat([buffered, Buffer.isBuffer(c) ? c : Buffer.from(c)])
      const nl = buffered.indexOf(10)
      if (nl >= 0) finish(buffered.subarray(0, nl).toString().replace(/\r$/, ''), buffered.subarray(nl + 1))
    }
    const onEnd = (): void => finish(buffered.length > 0 ? buffered.toString() : undefined, Buffer.alloc(0))
    if (stdin.readableEnded) return resolve(undefined)
    stdin.on('data', onData)
    stdin.once('end', onEnd)
  })
}

async function runPipeline(p: Pipeline, io: CommandIO, scope: CommandScope, st: ScriptState, runner: ShellRunner): Promise<number> {
  let stdin = io.stdin
  let code = 0
  for (let k = 0; k < p.length; k++) {
    const last = k === p.length - 1
    const captured: Buffer[] = []
    const stdout = last ? io.stdout : (d: string | Buffer) => { captured.push(Buffer.isBuffer(d) ? d : Buffer.from(d)) }
    code = await runSimple(p[k]!, { ...io, stdin, stdout }, scope, st, runner)
    stdin = Readable.from([Buffer.concat(captured)])
  }
  return code
}

/** Runs a parsed script; resolves with its exit status. */
export async function runScript(script: Script, io: CommandIO, scope: CommandScope, runner: ShellRunner, st: ScriptState = { status: 0 }): Promise<number> {
  try {
    for (const andOr of script) {
      for (const { op, pipeline } of andOr) {
        if (op === '&&' && st.status !== 0) continue
        if (op === '||' && st.status === 0) continue
        st.status = await runPipeline(pipeline, io, scope, st, runner)
        if (io.signal.aborted) return 130
      }
    }
    return st.status
  } catch (e) {
    if (e instanceof ExitRequest) return e.code
    throw e
  }
}

/** Parses and runs script text; a syntax error is exit status 2, as sh reports it. */
export async function runScriptText(text: string, io: CommandIO, scope: CommandScope, runner: ShellRunner, st: ScriptState = { status: 0 }): Promise<number> {
  let script: Script
  try {
    script = parseScript(text)
  } catch (e) {
    if (!(e instanceof ShellSyntaxError)) throw e
    io.stderr(`sh: ${e.message}\n`)
    return 2
  }
  return runScript(script, io, scope, runner, st)
}

/** `sh [-c SCRIPT [NAME [ARG...]]]`: a subshell with its own copy of the variables. */
export function shellCommand(runner: ShellRunner): Command {
  return async (args, io, outer) => {
    const scope: CommandScope = { ctx: outer.ctx, vars: new Map(outer.vars), cwd: outer.cwd }
    const flags = args.filter((a, i) => a.startsWith('-') && args.slice(0, i).every((b) => b.startsWith('-')))
    const rest = args.slice(flags.length)
    if (flags.some((f) => f.includes('c'))) {
      if (rest[0] === undefined) {
        io.stderr('sh: -c requires an argument\n')
        return 2
      }
      rest.slice(2).forEach((a, i) => scope.vars.set(String(i + 1), a))
      return runScriptText(rest[0], io, scope, runner)
    }
    if (rest[0] !== undefined) {
      let text: string
      try {
        text = scope.ctx.files.read(MemoryFilesystemPath(rest[0], scope)).toString()
      } catch (e) {
        io.stderr(`sh: can't open '${rest[0]}': ${e instanceof FsError ? e.why : errorText(e)}\n`)
        return 127
      }
      return runScriptText(text, io, scope, runner)
    }
    if (io.tty && io.stdin) return interactive(io, scope, runner)
    return runScriptText((await readAll(io.stdin)).toString(), io, scope, runner)
  }
}

/** A terminal session: prompt, echo what is typed, run each line; Ctrl-D on an empty line ends it. */
async function interactive(io: CommandIO, scope: CommandScope, runner: ShellRunner): Promise<number> {
  const st: ScriptState = { status: 0 }
  const prompt = (): void => io.stdout(`${scope.cwd} # `)
  let line = ''
  prompt()
  for await (const chunk of io.stdin!) {
    for (const ch of (Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))).toString()) {
      if (ch === '\r' || ch === '\n') {
        io.stdout('\n')
        const text = line
        line = ''
        const before = st.status
        const code = await runScriptText(text, { ...io, stdin: undefined }, scope, runner, st)
        // `exit` ends the session: runScript reports it as the status of a line that asked for it.
        if (/^\s*exit(\s|$)/.test(text) || /[;&|]\s*exit(\s|$)/.test(text)) return code
        st.status = text.trim() === '' ? before : code
        prompt()
      } else if (ch === '\x7f' || ch === '\b') {
        if (line.length > 0) { line = line.slice(0, -1); io.stdout('\b \b') }
      } else if (ch === '\x03') {
        line = ''
        io.stdout('^C\n')
        prompt()
      } else if (ch === '\x04') {
        if (line === '') { io.stdout('exit\n'); return st.status }
      } else if (ch >= ' ' || ch === '\t') {
        line += ch
        io.stdout(ch)
      }
    }
  }
  return st.status
}
