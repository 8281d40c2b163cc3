/**
 * Files in the data dir that only the user running kpe may read: the dir 0700, files 0600. The
 * modes are set explicitly, so a data dir or file created by an older kpe (0755/0644) is
 * tightened too. Leaf module.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises'

export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
}

export async function writePrivateFile(file: string, data: string): Promise<void> {
  await writeFile(file, data, { mode: 0o600 })
  await chmod(file, 0o600)
}
