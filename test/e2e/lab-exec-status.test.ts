/**
 * `kpe lab exec TARGET -- CMD` exits with CMD's own status (issue 10, item 8: `-- false` exited
 * 0), through the built CLI (dist/src/cli/main.js). Needs root and the lab tools.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { iptablesCommand } from '../../src/lab/index.js'
import { labTestStateRoot, testLabPrefix } from '../helpers/lab-session.js'
import { requireLab } from '../helpers/root.js'
import { repoRoot } from '../helpers/shared.js'

function kpe(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args], { cwd: repoRoot, env: { ...process.env, KPE_LAB_STATE_DIR: labTestStateRoot }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
    })
  })
}

if (requireLab('lab-exec-status', [iptablesCommand('IPv4', 'nft', 'iptables'), iptablesCommand('IPv4', 'nft', 'restore'), 'sysctl', 'node'])) {
  describe('kpe lab exec', () => {
    it('exits with the status of the command it ran', async () => {
      const prefix = testLabPrefix('x')
      const up = await kpe(['lab', 'up', '-f', 'fixtures/clusterip-basic.yaml', '--name', prefix])
      try {
        expect(up.code, up.stderr).toBe(0)
        expect((await kpe(['lab', 'exec', 'external', '--name', prefix, '--', 'false'])).code).toBe(1)
        expect((await kpe(['lab', 'exec', 'external', '--name', prefix, '--', 'sh', '-c', 'exit 7'])).code).toBe(7)
        const ok = await kpe(['lab', 'exec', 'external', '--name', prefix, '--', 'echo', 'hello'])
        expect(ok).toMatchObject({ code: 0, stdout: 'hello\n' })
      } finally {
        expect((await kpe(['lab', 'down', '--name', prefix])).code).toBe(0)
      }
    }, 180_000)
  })
}
