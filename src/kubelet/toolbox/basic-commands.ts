/**
 * The toolbox's small commands: echo, true, false, sleep, cat, env/printenv, hostname, ls,
 * mkdir, rm, test/[ and ip (addr, route). Each reads only its scope and writes only its streams
 * and the container's in-memory files.
 */
import { sleep, type Command, type CommandScope } from './context.js'
import { FsError, MemoryFilesystem } from './memory-filesystem.js'

function abs(path: string, scope: CommandScope): string {
  return MemoryFilesystem.normalize(path, scope.cwd)
}

function why(e: unknown): string {
  return e instanceof FsError ? e.why : e instanceof Error ? e.message : String(e)
}

export const echo: Command = async (args, io) => {
  const noNewline = args[0] === '-n'
  io.stdout(`${(noNewline ? args.slice(1) : args).join(' ')}${noNewline ? '' : '\n'}`)
  return 0
}

export const trueCommand: Command = async () => 0
export const falseCommand: Command = async () => 1

/** `sleep N[smhd]` or `sleep infinity`; ends early (status 130) when the client goes away. */
export const sleepCommand: Command = async (args, io) => {
  const arg = args[0]
  if (arg === undefined) {
    io.stderr('sleep: missing operand\n')
    return 1
  }
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(arg)
  const ms = arg === 'infinity' ? 2 ** 31 - 1 : m ? Number(m[1]) * { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as '' | 's' | 'm' | 'h' | 'd'] : NaN
  if (Number.isNaN(ms)) {
    io.stderr(`sleep: invalid number '${arg}'\n`)
    return 1
  }
  return (await sleep(Math.min(ms, 2 ** 31 - 1), io.signal)) ? 0 : 130
}

export const cat: Command = async (args, io, scope) => {
  let code = 0
  for (const f of args.length === 0 ? ['-'] : args) {
    if (f === '-') {
      // Streams: what arrives is written at once (a client that cannot close stdin still sees it).
      if (io.stdin) for await (const chunk of io.stdin) io.stdout(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
      continue
    }
    try {
      io.stdout(scope.ctx.files.read(abs(f, scope)))
    } catch (e) {
      io.stderr(`cat: can't open '${f}': ${why(e)}\n`)
      code = 1
    }
  }
  return code
}

export const env: Command = async (args, io, scope) => {
  if (args.length > 0) {
    io.stderr('env: running a command through env is not supported by the kpe toolbox; run it directly\n')
    return 125
  }
  for (const [k, v] of scope.vars) if (!/^\d+$/.test(k)) io.stdout(`${k}=${v}\n`)
  return 0
}

export const printenv: Command = async (args, io, scope) => {
  if (args.length === 0) return env([], io, scope)
  let code = 0
  for (const a of args) {
    const v = scope.vars.get(a)
    if (v === undefined) code = 1
    else io.stdout(`${v}\n`)
  }
  return code
}

export const hostname: Command = async (args, io, scope) => {
  if (args[0] === '-i') io.stdout(`${scope.ctx.pod.podIPs.join(' ')}\n`)
  else io.stdout(`${scope.ctx.pod.hostname}\n`)
  return 0
}

export const ls: Command = async (args, io, scope) => {
  const paths = args.filter((a) => !a.startsWith('-'))
  let code = 0
  for (const p of paths.length === 0 ? ['.'] : paths) {
    const e = scope.ctx.files.stat(abs(p, scope))
    if (!e) {
      io.stderr(`ls: ${p}: No such file or directory\n`)
      code = 1
    } else if (e.kind === 'file') io.stdout(`${p}\n`)
    else for (const name of scope.ctx.files.list(abs(p, scope))) io.stdout(`${name}\n`)
  }
  return code
}

export const mkdir: Command = async (args, io, scope) => {
  const parents = args.includes('-p')
  let code = 0
  for (const p of args.filter((a) => !a.startsWith('-'))) {
    try {
      scope.ctx.files.mkdir(abs(p, scope), parents)
    } catch (e) {
      io.stderr(`mkdir: can't create directory '${p}': ${why(e)}\n`)
      code = 1
    }
  }
  return code
}

export const rm: Command = async (args, io, scope) => {
  const flags = args.filter((a) => a.startsWith('-')).join('')
  let code = 0
  for (const p of args.filter((a) => !a.startsWith('-'))) {
    try {
      scope.ctx.files.remove(abs(p, scope), flags.includes('r'))
    } catch (e) {
      if (flags.includes('f') && e instanceof FsError && e.why === 'No such file or directory') continue
      io.stderr(`rm: can't remove '${p}': ${why(e)}\n`)
      code = 1
    }
  }
  return code
}

/** test / [: file tests (-e -f -d -s), string tests (-n -z = !=) and integer comparisons, with `!`. */
export const test: Command = async (argsIn, io, scope) => {
  let args = [...argsIn]
  if (args[args.length - 1] === ']') args = args.slice(0, -1)
  let negate = false
  if (args[0] === '!') { negate = true; args = args.slice(1) }
  const file = (p: string) => scope.ctx.files.stat(abs(p, scope))
  const ints = (a: string, b: string): [number, number] | undefined => (/^-?\d+$/.test(a) && /^-?\d+$/.test(b) ? [Number(a), Number(b)] : undefined)
  let result: boolean
  const [a, b, c] = args
  if (args.length === 0) result = false
  else if (args.length === 1) result = a !== ''
  else if (args.length === 2) {
    const e = file(b!)
    switch (a) {
      case '-e': result = e !== undefined; break
      case '-f': result = e?.kind === 'file'; break
      case '-d': result = e?.kind === 'dir'; break
      case '-s': result = e?.kind === 'file' && e.data.length > 0; break
      case '-n': result = b !== ''; break
      case '-z': result = b === ''; break
      default: io.stderr(`test: ${a}: unknown operand\n`); return 2
    }
  } else if (args.length === 3) {
    const n = ints(a!, c!)
    switch (b) {
      case '=': case '==': result = a === c; break
      case '!=': result = a !== c; break
      case '-eq': case '-ne': case '-lt': case '-le': case '-gt': case '-ge':
        if (!n) { io.stderr(`test: bad number\n`); return 2 }
        result = { '-eq': n[0] === n[1], '-ne': n[0] !== n[1], '-lt': n[0] < n[1], '-le': n[0] <= n[1], '-gt': n[0] > n[1], '-ge': n[0] >= n[1] }[b]
        break
      default: io.stderr(`test: ${b}: unknown operand\n`); return 2
    }
  } else {
    io.stderr('test: too many arguments for the kpe toolbox\n')
    return 2
  }
  return result !== negate ? 0 : 1
}

/** `ip addr` and `ip route`, as the pod's network namespace would show them (eth0 with the pod IPs). */
export const ip: Command = async (args, io, scope) => {
  const pod = scope.ctx.pod
  const prefix = pod.podCIDRPrefix ?? 24
  const object = args.find((a) => !a.startsWith('-')) ?? ''
  if ('address'.startsWith(object) && object !== '') {
    const lines = [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN qlen 1000',
      '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      '    inet 127.0.0.1/8 scope host lo',
      '       valid_lft forever preferred_lft forever',
      '2: eth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue state UP',
      `    link/ether ${macOf(pod.podIPs[0] ?? '')} brd ff:ff:ff:ff:ff:ff`,
      ...pod.podIPs.flatMap((a) => [a.includes(':') ? `    inet6 ${a}/64 scope global eth0` : `    inet ${a}/${prefix} scope global eth0`, '       valid_lft forever preferred_lft forever']),
    ]
    io.stdout(`${lines.join('\n')}\n`)
    return 0
  }
  if (object === 'r' || object === 'ro' || 'route'.startsWith(object) && object !== '') {
    const v4 = pod.podIPs.find((a) => !a.includes(':'))
    if (v4) {
      const net = networkOf(v4, prefix)
      io.stdout(`default via ${net.gateway} dev eth0 \n${net.cidr} dev eth0 scope link  src ${v4} \n`)
    }
    return 0
  }
  io.stderr('ip: the kpe toolbox knows `ip addr` and `ip route` only\n')
  return 1
}

/** A stable, locally administered MAC from the pod IP (as CNI plugins often derive one). */
function macOf(ip: string): string {
  const octets = ip.split('.').map(Number)
  const tail = octets.length === 4 ? octets : [0, 0, 0, 0]
  return ['0a', '58', ...tail.map((o) => (o & 255).toString(16).padStart(2, '0'))].join(':')
}

function networkOf(ip: string, prefix: number): { cidr: string; gateway: string } {
  const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0)
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
  const base = (n & mask) >>> 0
  const text = (v: number) => [24, 16, 8, 0].map((s) => (v >>> s) & 255).join('.')
  return { cidr: `${text(base)}/${prefix}`, gateway: text(base + 1) }
}
