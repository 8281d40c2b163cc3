/**
 * Issue 10 item 6: the data dir was 0755 and its files 0644, so any local user could read the
 * kubeconfig (with a token, under --token-file) and the server files. A new data dir is 0700;
 * the kubeconfig and server.json are 0600, also over files an older kpe left 0644.
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
  it('creates a new data dir 0700 and writes the kubeconfig and server.json 0600', async () => {
    root = await mkdtemp(join(tmpdir(), 'kpe-perm-'))
    const dataDir = join(root, 'data')
    cp = await startControlPlane({ dataDir, port: 0 })
    expect(await mode(dataDir)).toBe(0o700)
    expect(await mode(join(dataDir, 'kubeconfig'))).toBe(0o600)
    expect(await mode(join(dataDir, 'server.json'))).toBe(0o600)
  })

  it('tightens a kubeconfig an older kpe left 0644, and reports a loose data dir', async () => {
    root = await mkdtemp(join(tmpdir(), 'kpe-perm-'))
    const dataDir = join(root, 'data')
    await mkdir(dataDir)
    await chmod(dataDir, 0o755)
    await writeFile(join(dataDir, 'kubeconfig'), 'old')
    await chmod(join(dataDir, 'kubeconfig'), 0o644)
    const warnings: string[] = []
    cp = await startControlPlane({ dataDir, port: 0, onWarning: (w) => warnings.push(w) })
    expect(await mode(join(dataDir, 'kubeconfig'))).toBe(0o600)
    expect(warnings.join('\n')).toContain(dataDir)
  })
})
