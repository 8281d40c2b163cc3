/**
 * `kpe store check` / `kpe store repair` on a data dir whose WAL has a flipped bit in the middle:
 * kpe up refuses it naming the offset, repair backs the log up and keeps every record before the
 * damage, and the control plane starts on the repaired dir. Runs the built CLI (dist/).
 */
import { spawn } from 'node:child_process'
import { appendFile, chmod, readdir, readFile, rm, stat, writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startControlPlane, storeDirOf } from '../../src/cluster/index.js'
import { InputError } from '../../src/errors.js'
import { walFileName, type KubeObject } from '../../src/store/index.js'
import { runKpe } from '../helpers/cli.js'
import { repoRoot } from '../helpers/shared.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { name } })

/** A data dir with the bootstrap objects and 60 ConfigMaps, each acknowledged on its own. */
async function clusterDataDir(): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kpe-cli-store-'))
  dirs.push(dataDir)
  const cp = await startControlPlane({ dataDir, port: 0, host: '127.0.0.1' })
  for (let i = 0; i < 60; i++) await cp.store.create('configmaps', cm(`c${i}`))
  await cp.stop()
  return dataDir
}

async function flipBitAt(path: string, fraction: number): Promise<{ damaged: Buffer; lineStart: number; line: number }> {
  const buf = await readFile(path)
  const pos = Math.floor(buf.length * fraction)
  buf[pos] = (buf[pos] ?? 0) ^ 0x10
  await writeFile(path, buf)
  const lineStart = buf.lastIndexOf(0x0a, pos - 1) + 1
  const line = buf.subarray(0, lineStart).toString('latin1').split('\n').length
  return { damaged: buf, lineStart, line }
}

describe('kpe store', () => {
  it('check reports a clean store; repair has nothing to do', async () => {
    const dataDir = await clusterDataDir()
    const check = await runKpe(['store', 'check', '--data-dir', dataDir])
    expect(check.code, check.stderr).toBe(0)
    expect(check.stdout).toMatch(/wal\.log: \d+ bytes, \d+ readable records/)
    expect(check.stdout).toContain('  ok')
    const repair = await runKpe(['store', 'repair', '--data-dir', dataDir])
    expect(repair.code, repair.stderr).toBe(0)
    expect(repair.stdout).toContain('nothing to repair')
    expect((await readdir(storeDirOf(dataDir))).filter((f) => f.includes('corrupt'))).toEqual([])
  })

  it('after a flipped bit mid-log: up refuses naming the offset, repair keeps the prefix after a backup, up starts again', async () => {
    const dataDir = await clusterDataDir()
    const walPath = join(storeDirOf(dataDir), walFileName)
    const { damaged, lineStart, line } = await flipBitAt(walPath, 0.5)

    const refused = await startControlPlane({ dataDir, port: 0, host: '127.0.0.1' }).then(() => undefined, (e: unknown) => e)
    expect(refused).toBeInstanceOf(InputError)
    expect((refused as InputError).message).toContain(`${walPath}: corrupt record at byte ${lineStart} (line ${line})`)
    expect((refused as InputError).hint).toContain(`kpe store repair --data-dir ${dataDir}`)

    const up = await runKpe(['up', '--control-plane-only', '--port', '0', '--data-dir', dataDir])
    expect(up.code).toBe(2)
    expect(up.stderr).toContain(`corrupt record at byte ${lineStart} (line ${line})`)
    expect(up.stderr).toContain('hint:')

    const check = await runKpe(['store', 'check', '--data-dir', dataDir])
    expect(check.code).toBe(2)
    expect(check.stderr).toContain(`corrupt record at byte ${lineStart} (line ${line})`)
    expect((await readFile(walPath)).equals(damaged)).toBe(true)

    const repair = await runKpe(['store', 'repair', '--data-dir', dataDir])
    expect(repair.code, repair.stderr).toBe(0)
    expect(repair.stdout).toContain(`dropped the corrupt record at byte ${lineStart} (line ${line})`)
    const dropped = /dropped (\d+) readable records after it: resourceVersions ([\d, ]+)/.exec(repair.stdout)
    expect(dropped, repair.stdout).not.toBeNull()
    const backups = (await readdir(storeDirOf(dataDir))).filter((f) => f.startsWith(`${walFileName}.corrupt-`))
    expect(backups).toHaveLength(1)
    const backup = join(storeDirOf(dataDir), backups[0] ?? '')
    expect((await readFile(backup)).equals(damaged)).toBe(true)
    expect((await stat(backup)).mode & 0o777).toBe(0o600)
    expect((await readFile(walPath)).equals(damaged.subarray(0, lineStart))).toBe(true)

    expect((await runKpe(['store', 'check', '--data-dir', dataDir])).code).toBe(0)
    const cp = await startControlPlane({ dataDir, port: 0, host: '127.0.0.1' })
    try {
      const names = new Set(cp.store.list('configmaps', { namespace: 'default' }).items.map((o) => o.metadata.name))
      const droppedRvs = (dropped?.[2] ?? '').split(', ').map(Number)
      // every ConfigMap whose create precedes the damage is back; the dropped ones are not
      const kept = [...names].filter((n) => n?.startsWith('c'))
      expect(kept.length).toBeGreaterThan(0)
      expect(kept.length).toBeLessThan(60)
      for (const n of names) {
        const rv = Number(cp.store.get({ resource: 'configmaps', namespace: 'default', name: n ?? '' })?.metadata.resourceVersion)
        expect(droppedRvs).not.toContain(rv)
      }
      expect(cp.store.resourceVersion).toBeLessThan(Math.min(...droppedRvs))
    } finally {
      await cp.stop()
    }
  }, 60_000)

  it('kpe up prints store warnings (a torn tail, a loose data dir) to stderr and starts', async () => {
    const dataDir = await clusterDataDir()
    await chmod(dataDir, 0o755)
    await appendFile(join(storeDirOf(dataDir), walFileName), '{"crc":"0123abcd","rec":{"rv":9')
    const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'up', '--control-plane-only', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d
          if (out.includes('listening on')) resolve()
        })
        void exited.then(() => reject(new Error(`kpe up exited early: ${err}`)))
      })
    } finally {
      child.kill('SIGINT')
    }
    await exited
    expect(err).toMatch(/kpe up: warning: .*wal\.log: discarded a torn or corrupt tail of 31 bytes/)
    expect(err).toContain(`kpe up: warning: ${dataDir}: other users can list it (mode 755)`)
  }, 30_000)

  it('answers usage errors with exit 2', async () => {
    expect((await runKpe(['store'])).code).toBe(2)
    expect((await runKpe(['store', 'fix'])).code).toBe(2)
    expect((await runKpe(['store', 'check', '--data-dir', join(tmpdir(), 'kpe-no-such-dir-xyz')])).code).toBe(2)
  })
})
