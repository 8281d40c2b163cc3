/**
 * tar for `kubectl cp`: `tar cf - PATH...` writes an archive of the container's files to stdout
 * and `tar xf - [-C DIR]` unpacks stdin into them (kubectl's own flags -m,
 * --no-same-permissions and --no-same-owner are accepted). Archives are read and written with
 * tar-stream; entries that would land outside the target directory are skipped.
 */
import { posix } from 'node:path'
import { Readable } from 'node:stream'
import { extract, pack } from 'tar-stream'
import { readAll, type Command, type CommandIO, type CommandScope } from './context.js'
import { FsError, MemoryFilesystem } from './memory-filesystem.js'

interface TarOptions {
  mode: 'c' | 'x' | 't' | undefined
  file: string | undefined
  dir: string | undefined
  verbose: boolean
  paths: string[]
}

function parseTarArgs(args: readonly string[]): TarOptions | string {
  const o: TarOptions = { mode: undefined, file: undefined, dir: undefined, verbose: false, paths: [] }
  const ignored = new Set(['--no-same-permissions', '--no-same-owner', '--same-permissions', '--preserve-permissions', '--overwrite'])
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (ignored.has(a)) continue
    if (a.startsWith('--directory=')) { o.dir = a.slice('--directory='.length); continue }
    if (a === '--directory') { o.dir = args[++i]; continue }
    if (a.startsWith('--')) return `tar: unrecognized option '${a}' (the kpe toolbox knows c, x, t, f, C, v, m)`
    // The first word may be bundled letters without a dash (tar cf -).
    const bundle = a.startsWith('-') ? a.slice(1) : i === 0 ? a : undefined
    if (bundle === undefined) { o.paths.push(a); continue }
    for (let k = 0; k < bundle.length; k++) {
      const f = bundle[k]!
      if (f === 'c' || f === 'x' || f === 't') o.mode = f
      else if (f === 'v') o.verbose = true
      else if (f === 'm' || f === 'p' || f === 'o') continue
      else if (f === 'f' || f === 'C') {
        const v = k + 1 < bundle.length && a.startsWith('-') ? bundle.slice(k + 1) : args[++i]
        if (v === undefined) return `tar: option requires an argument -- '${f}'`
        if (f === 'f') o.file = v
        else o.dir = v
        break
      } else return `tar: invalid option -- '${f}' (the kpe toolbox knows c, x, t, f, C, v, m)`
    }
  }
  return o
}

export const tar: Command = async (args, io, scope) => {
  const o = parseTarArgs(args)
  if (typeof o === 'string') { io.stderr(`${o}\n`); return 2 }
  if (o.mode === undefined) { io.stderr("tar: You must specify one of the '-ctx' options\n"); return 2 }
  if (o.file !== undefined && o.file !== '-') { io.stderr('tar: the kpe toolbox reads and writes archives on stdin/stdout only (f -)\n'); return 2 }
  const base = MemoryFilesystem.normalize(o.dir ?? '.', scope.cwd)
  if (o.mode === 'c') return create(o, base, io, scope)
  return unpack(o, base, io, scope)
}

async function create(o: TarOptions, base: string, io: CommandIO, scope: CommandScope): Promise<number> {
  const p = pack()
  const out: Buffer[] = []
  p.on('data', (c: unknown) => out.push(c as Buffer))
  const done = new Promise<void>((resolve, reject) => { p.on('end', resolve); p.on('error', reject) })
  let code = 0
  const add = (abs: string, name: string): void => {
    const e = scope.ctx.files.stat(abs)
    if (!e) { io.stderr(`tar: ${name}: Cannot stat: No such file or directory\n`); code = 2; return }
    if (o.verbose) io.stderr(`${name}\n`)
    if (e.kind === 'file') { p.entry({ name, size: e.data.length, mode: e.mode, mtime: new Date(e.mtimeMs), type: 'file' }, e.data); return }
    p.entry({ name: `${name}/`, mode: 0o755, type: 'directory' })
    for (const child of scope.ctx.files.list(abs)) add(posix.join(abs, child), `${name}/${child}`)
  }
  for (const path of o.paths) {
    const abs = MemoryFilesystem.normalize(path, base)
    // GNU tar drops the leading '/' from member names.
    const name = path.startsWith('/') ? abs.slice(1) : posix.normalize(path).replace(/\/$/, '')
    add(abs, name === '' ? '.' : name)
  }
  p.finalize()
  await done
  io.stdout(Buffer.concat(out))
  if (code !== 0) io.stderr('tar: Exiting with failure status due to previous errors\n')
  return code
}

async function unpack(o: TarOptions, base: string, io: CommandIO, scope: CommandScope): Promise<number> {
  if (scope.ctx.files.stat(base)?.kind !== 'dir') { io.stderr(`tar: ${o.dir ?? base}: Cannot open: No such file or directory\n`); return 2 }
  const archive = await readAll(io.stdin)
  const ex = extract()
  let code = 0
  const finished = new Promise<void>((resolve, reject) => { ex.on('finish', resolve); ex.on('error', reject) })
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: unknown) => chunks.push(c as Buffer))
    stream.on('end', () => {
      const target = MemoryFilesystem.normalize(header.name, base)
      if (target !== base && !target.startsWith(base === '/' ? '/' : `${base}/`)) {
        io.stderr(`tar: ${header.name}: skipping a member outside the target directory\n`)
        return next()
      }
      if (o.mode === 't' || o.verbose) io.stdout(`${header.name}\n`)
      if (o.mode === 't') return next()
      try {
        if (header.type === 'directory') scope.ctx.files.mkdir(target, true)
        else if (header.type === 'file' || header.type === 'contiguous-file') {
          scope.ctx.files.mkdir(posix.dirname(target), true)
          scope.ctx.files.write(target, Buffer.concat(chunks), { mode: header.mode ?? 0o644, mtimeMs: header.mtime?.getTime() ?? scope.ctx.now() })
        } else io.stderr(`tar: ${header.name}: ${header.type} members are not supported by the kpe toolbox; skipped\n`)
      } catch (e) {
        io.stderr(`tar: ${header.name}: Cannot open: ${e instanceof FsError ? e.why : e instanceof Error ? e.message : String(e)}\n`)
        code = 2
      }
      next()
    })
    stream.resume()
  })
  Readable.from([archive]).pipe(ex)
  try {
    await finished
  } catch (e) {
    io.stderr(`tar: ${e instanceof Error ? e.message : String(e)}\n`)
    return 2
  }
  return code
}
