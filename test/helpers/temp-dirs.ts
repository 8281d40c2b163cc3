/**
 * Temporary directories a test file makes, removed when that file's tests are done. Vitest
 * evaluates this module once per test file and its hook is registered at import, before the
 * file's own: after-hooks unwind as a stack, so the file's afterAll (stopping what still writes
 * there) runs first.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

const made: string[] = []
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A new directory under the system temp dir, named PREFIX + random characters. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}
