/**
 * Issue 10 item 6: the data dir was 0755 and its files 0644, so any local user could read the
 * kubeconfig (with a token) and the server files. The control plane now makes the dir 0700 and
 * writes its files 0600, also over a data dir an older kpe left readable.
 */
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startControlPlane, type ControlPlane } from '../../../src/cluster/index.js'

let cp: ControlPlane | undefined
let root: string | undefined
afterEach(async () => {
  await cp?.stop()
  if (root) await rm(root, { recursive: true, force: true })
  cp = root = undefined
})

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777

describe('data dir permissions', () => {
  it('tightens an existing 0755 data dir and 0644 files to 0700 and 0600', async () => {
    root = await mkdtemp(join(tmpdir(), 'kpe-perm-'))
    const dataDir = join(root, 'data')
    await mkdir(dataDir, { mode: 0o755 })
    await chmod(dataDir, 0o755)
    await writeFile(join(dataDir, 'kubeconfig'), 'old', { mode: 0o644 })
    await chmod(join(dataDir, 'kubeconfig'), 0o644)
    cp = await startControlPlane({ dataDir, port: 0 })
    expect(await mode(dataDir)).toBe(0o700)
    expect(await mode(join(dataDir, 'kubeconfig'))).toBe(0o600)
    expect(await mode(join(dataDir, 'server.json'))).toBe(0o600)
  })
})
