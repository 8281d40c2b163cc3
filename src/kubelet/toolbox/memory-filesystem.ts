/**
 * A container's files in the toolbox: a small in-memory tree (what `kubectl cp` writes and
 * reads, `echo > file`, and the files kubelet mounts: /etc/hosts, /etc/resolv.conf,
 * /etc/hostname). Bounded: writes past the byte limit fail with ENOSPC, as a full disk would.
 */
import { posix } from 'node:path'

export type FsEntry = { readonly kind: 'dir' } | { readonly kind: 'file'; readonly data: Buffer; readonly mtimeMs: number; readonly mode: number }

export class FsError extends Error {
  constructor(readonly path: string, readonly why: 'No such file or directory' | 'Is a directory' | 'Not a directory' | 'No space left on device' | 'File exists') {
    super(`${path}: ${why}`)
  }
}

/** Default per-container limit: enough for kubectl cp of a few files, small enough for a laptop. */
export const defaultFilesystemBytes = 64 * 1024 * 1024

export class MemoryFilesystem {
  readonly #entries = new Map<string, FsEntry>([['/', { kind: 'dir' }]])
  readonly #limit: number
  #used = 0

  constructor(limitBytes = defaultFilesystemBytes) {
    this.#limit = limitBytes
    for (const d of ['/bin', '/dev', '/etc', '/home', '/root', '/tmp', '/var', '/usr']) this.#entries.set(d, { kind: 'dir' })
  }

  static normalize(path: string, cwd = '/'): string {
    return posix.resolve(cwd, path)
  }

  stat(path: string): FsEntry | undefined {
    return this.#entries.get(MemoryFilesystem.normalize(path))
  }

  read(path: string): Buffer {
    const p = MemoryFilesystem.normalize(path)
    const e = this.#entries.get(p)
    if (!e) throw new FsError(path, 'No such file or directory')
    if (e.kind === 'dir') throw new FsError(path, 'Is a directory')
    return e.data
  }

  write(path: string, data: Buffer, o: { readonly append?: boolean; readonly mode?: number; readonly mtimeMs?: number } = {}): void {
    const p = MemoryFilesystem.normalize(path)
    const parent = this.#entries.get(posix.dirname(p))
    if (!parent) throw new FsError(path, 'No such file or directory')
    if (parent.kind !== 'dir') throw new FsError(path, 'Not a directory')
    const old = this.#entries.get(p)
    if (old?.kind === 'dir') throw new FsError(path, 'Is a directory')
    const next = o.append && old ? Buffer.concat([old.data, data]) : data
    const used = this.#used - (old?.data.length ?? 0) + next.length
    if (used > this.#limit) throw new FsError(path, 'No space left on device')
    this.#used = used
    this.#entries.set(p, { kind: 'file', data: next, mtimeMs: o.mtimeMs ?? Date.now(), mode: o.mode ?? old?.mode ?? 0o644 })
  }

  mkdir(path: string, parents: boolean): void {
    const p = MemoryFilesystem.normalize(path)
    const e = this.#entries.get(p)
    if (e?.kind === 'dir') {
      if (parents) return
      throw new FsError(path, 'File exists')
    }
    if (e) throw new FsError(path, 'File exists')
    const parent = posix.dirname(p)
    if (!this.#entries.has(parent)) {
      if (!parents) throw new FsError(path, 'No such file or directory')
      this.mkdir(parent, true)
    } else if (this.#entries.get(parent)?.kind !== 'dir') throw new FsError(path, 'Not a directory')
    this.#entries.set(p, { kind: 'dir' })
  }

  /** Direct children of a directory, sorted. */
  list(path: string): string[] {
    const p = MemoryFilesystem.normalize(path)
    const e = this.#entries.get(p)
    if (!e) throw new FsError(path, 'No such file or directory')
    if (e.kind !== 'dir') throw new FsError(path, 'Not a directory')
    const prefix = p === '/' ? '/' : `${p}/`
    return [...this.#entries.keys()].filter((k) => k !== p && k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length)).sort()
  }

  remove(path: string, recursive: boolean): void {
    const p = MemoryFilesystem.normalize(path)
    const e = this.#entries.get(p)
    if (!e) throw new FsError(path, 'No such file or directory')
    if (e.kind === 'dir') {
      if (!recursive) throw new FsError(path, 'Is a directory')
      for (const child of this.list(p)) this.remove(posix.join(p, child), true)
    } else this.#used -= e.data.length
    if (p !== '/') this.#entries.delete(p)
  }
}
