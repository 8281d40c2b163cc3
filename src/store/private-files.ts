/**
 * The store's files are private to the user running kpe: Secrets live in them. Directories are
 * made 0700 and files 0600, and older data dirs with looser modes are tightened (with a warning,
 * since the contents may already have been readable to other local users).
 */
import { chmod, copyFile, mkdir, open, stat, type FileHandle } from 'node:fs/promises'

export const privateDirMode = 0o700
export const privateFileMode = 0o600

/**
 * Creates dir (and parents) 0700. An existing dir with a looser mode is tightened, with a warning;
 * with `tighten: false` (a dir the user named, which may hold other things) it is only reported.
 */
export async function ensurePrivateDir(dir: string, opts: { readonly tighten?: boolean } = {}): Promise<string | undefined> {
  await mkdir(dir, { recursive: true, mode: privateDirMode })
  const mode = (await stat(dir)).mode & 0o777
  if ((mode & 0o077) === 0) return undefined
  if (opts.tighten === false) return `${dir}: other users can list it (mode ${mode.toString(8)}); kpe's own files in it are 0600, run chmod 700 ${dir} to hide the rest`
  await chmod(dir, privateDirMode)
  return `${dir}: tightened permissions from ${mode.toString(8)} to 700 (it may hold Secrets)`
}

/** Opens a file 0600, tightening it if it already existed with a looser mode. */
export async function openPrivate(path: string, flags: string): Promise<FileHandle> {
  const fh = await open(path, flags, privateFileMode)
  try {
    if (((await fh.stat()).mode & 0o077) !== 0) await fh.chmod(privateFileMode)
  } catch (e) {
    await fh.close()
    throw e
  }
  return fh
}

/** Tightens an existing file to 0600; a missing file is fine. */
export async function tightenFile(path: string): Promise<void> {
  try {
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, privateFileMode)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
}

/** A 0600 copy, on disk before this resolves (backups before a repair). */
export async function copyPrivate(from: string, to: string): Promise<void> {
  await copyFile(from, to)
  const fh = await openPrivate(to, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Writes a whole small file 0600 (kubeconfig, server.json), tightening an existing one. */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  const fh = await openPrivate(path, 'w')
  try {
    await fh.writeFile(text)
  } finally {
    await fh.close()
  }
}
