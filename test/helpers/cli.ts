/** Runs the built kpe CLI (dist/, built by `npm test` before vitest) as a child process. */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from './shared.js'

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export function runKpe(args: readonly string[], opts: { input?: string; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args], { cwd: opts.cwd ?? repoRoot, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : err ? 1 : 0
      resolve({ code, stdout, stderr })
    })
    if (opts.input !== undefined) child.stdin?.end(opts.input)
  })
}
