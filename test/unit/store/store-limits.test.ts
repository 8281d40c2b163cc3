import { appendFile, chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { toApiError } from '../../../src/apiserver/api-error.js'
import {
  encodeLine, isStoreError, openDurableStore, openMemoryStore, snapshotFileName, StoreError, walFileName, type KubeObject,
} from '../../../src/store/index.js'

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kpe-limits-'))
  dirs.push(d)
  return d
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

function cm(name: string, bytes = 1000): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v: 'x'.repeat(bytes) } }
}
const key = (name: string) => ({ resource: 'configmaps', namespace: 'default', name })
const lineLengths = (text: string): number[] => text.split('\n').map((l) => Buffer.byteLength(l))

describe('state larger than one string', () => {
  it('streams the snapshot one object per line and loads it without a line longer than one object', async () => {
    const dir = await tempDir()
    const s1 = await openDurableStore({ dataDir: dir, compactAfterBytes: 16 * 1024, snapshotChunkBytes: 4096 })
    for (let i = 0; i < 300; i++) await s1.create('configmaps', cm(`c${i}`))
    await s1.close()
    const text = await readFile(join(dir, snapshotFileName), 'utf8')
    // the whole state is ~330 kB; no line holds more than one object
    expect(Buffer.byteLength(text)).toBeGreaterThan(300_000)
    expect(Math.max(...lineLengths(text))).toBeLessThan(1400)
    // loading with a line cap far below the state's size proves no step needs the whole state as one string
    const s2 = await openDurableStore({ dataDir: dir, maxLineBytes: 2048 })
    expect(s2.list('configmaps').items).toHaveLength(300)
    expect(s2.resourceVersion).toBe(300)
    await s2.close()
  })

  it('reads a snapshot in the older one-line form', async () => {
    const dir = await tempDir()
    const o = { ...cm('old'), metadata: { name: 'old', namespace: 'default', resourceVersion: '7' } }
    await writeFile(join(dir, snapshotFileName), encodeLine({ rv: 7, objects: [['configmaps/default/old', o]] }))
    const s = await openDurableStore({ dataDir: dir })
    expect(s.get(key('old'))?.metadata.resourceVersion).toBe('7')
    expect((await s.create('configmaps', cm('new'))).metadata.resourceVersion).toBe('8')
    await s.close()
  })

  it('refuses a snapshot whose entry lines were damaged, naming the line', async () => {
    const dir = await tempDir()
    const s1 = await openDurableStore({ dataDir: dir, compactAfterBytes: 1 })
    for (let i = 0; i < 5; i++) await s1.create('configmaps', cm(`c${i}`, 10))
    await s1.close()
    const path = join(dir, snapshotFileName)
    const text = await readFile(path, 'utf8')
    await writeFile(path, text.replace('"name":"c2"', '"name":"c9"'))
    await expect(openDurableStore({ dataDir: dir })).rejects.toMatchObject({ reason: 'Corrupt', location: { file: path } })
  })

  it('refuses a snapshot holding an object newer than the snapshot itself', async () => {
    const dir = await tempDir()
    const o = { ...cm('a', 10), metadata: { name: 'a', namespace: 'default', resourceVersion: '9' } }
    await writeFile(join(dir, snapshotFileName), encodeLine({ v: 2, rv: 5, count: 1 }) + encodeLine({ k: 'configmaps/default/a', o }))
    await expect(openDurableStore({ dataDir: dir })).rejects.toMatchObject({ reason: 'Corrupt', location: { line: 2 } })
  })

  it('treats a WAL line longer than the cap as damage without buffering it', async () => {
    const dir = await tempDir()
    const s1 = await openDurableStore({ dataDir: dir })
    await s1.create('configmaps', cm('a', 10))
    await s1.close()
    await appendFile(join(dir, walFileName), 'y'.repeat(10_000))
    const warnings: string[] = []
    const s2 = await openDurableStore({ dataDir: dir, maxLineBytes: 4096, onWarning: (w) => warnings.push(w) })
    expect(s2.list('configmaps').items).toHaveLength(1)
    expect(warnings.join('\n')).toMatch(/torn or corrupt tail of 10000 bytes/)
    await s2.close()
  })

  it('refuses to write a record the reader could not read back', async () => {
    const dir = await tempDir()
    const s = await openDurableStore({ dataDir: dir, maxLineBytes: 4096 })
    await expect(s.create('configmaps', cm('big', 8000))).rejects.toMatchObject({ reason: 'Invalid' })
    // counted in bytes, not characters: 2,000 two-byte characters do not fit in 4,096 bytes
    await expect(s.create('configmaps', { ...cm('wide', 0), data: { v: 'é'.repeat(2000) } })).rejects.toMatchObject({ reason: 'Invalid' })
    await s.create('configmaps', cm('small', 10))
    expect(s.list('configmaps').items.map((o) => o.metadata.name)).toEqual(['small'])
    await s.close()
  })

  it('keeps the log bounded by compacting under a steady stream of writes', async () => {
    const dir = await tempDir()
    const s = await openDurableStore({ dataDir: dir, compactAfterBytes: 32 * 1024 })
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => s.create('configmaps', cm(`r${round}-${i}`, 200))))
    }
    await s.close()
    expect((await stat(join(dir, walFileName))).size).toBeLessThan(32 * 1024 + 50 * 600)
    const s2 = await openDurableStore({ dataDir: dir })
    expect(s2.list('configmaps').items).toHaveLength(1000)
    await s2.close()
  })
})

describe('store quota', () => {
  it('refuses writes that grow the live state past the quota, allows deletes, and frees space', async () => {
    const dir = await tempDir()
    const s = await openDurableStore({ dataDir: dir, quotaBytes: 10_000 })
    let created = 0
    let refusal: unknown
    for (; created < 50; created++) {
      try {
        await s.create('configmaps', cm(`c${created}`))
      } catch (e) {
        refusal = e
        break
      }
    }
    expect(created).toBeGreaterThan(5)
    expect(created).toBeLessThan(11)
    expect(isStoreError(refusal, 'QuotaExceeded'), String(refusal)).toBe(true)
    expect((refusal as StoreError).message).toMatch(new RegExp(`store quota exceeded: writing configmaps/default/c${created} would make .* over the quota of 10000 bytes`))
    expect(s.liveBytes).toBeLessThanOrEqual(10_000)
    const api = toApiError(refusal)
    expect(api.code).toBeGreaterThanOrEqual(500)
    expect(api.message).toContain('store quota exceeded')
    // a failed write leaves nothing behind, and the store goes on
    expect(s.get(key(`c${created}`))).toBeUndefined()
    await s.delete(key('c0'))
    await s.delete(key('c1'))
    await s.create('configmaps', cm('again'))
    const shrunk = s.get(key('c2'))
    if (shrunk) await s.update('configmaps', { ...shrunk, data: {} })
    await s.close()
    const s2 = await openDurableStore({ dataDir: dir, quotaBytes: 10_000 })
    expect(s2.get(key('again'))).toBeDefined()
    expect(s2.liveBytes).toBeLessThanOrEqual(10_000)
    await s2.close()
  })
})

describe('store quota, any sequence of writes', () => {
  it('counts exactly the serialized bytes of the live objects and never goes past the quota', async () => {
    const op = fc.record({ kind: fc.constantFrom('put', 'put', 'delete'), name: fc.constantFrom('a', 'b', 'c', 'd', 'e'), bytes: fc.nat({ max: 3000 }) })
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
      const quota = 8000
      const s = await openMemoryStore({ quotaBytes: quota })
      for (const o of ops) {
        const existing = s.get(key(o.name))
        const write = o.kind === 'delete'
          ? (existing ? s.delete(key(o.name)) : Promise.resolve())
          : existing ? s.update('configmaps', { ...existing, data: { v: 'x'.repeat(o.bytes) } }) : s.create('configmaps', cm(o.name, o.bytes))
        await write.catch((e: unknown) => { if (!isStoreError(e, 'QuotaExceeded')) throw e })
        const live = s.list('configmaps').items.reduce((n, obj) => n + Buffer.byteLength(JSON.stringify(obj)), 0)
        expect(s.liveBytes).toBe(live)
        expect(live).toBeLessThanOrEqual(quota)
      }
      await s.close()
    }), { seed: 7, numRuns: 60 })
  })
})

describe('file permissions', () => {
  const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777

  it('creates the data dir 0700 and every store file 0600', async () => {
    const dir = join(await tempDir(), 'store')
    const s = await openDurableStore({ dataDir: dir, compactAfterBytes: 1 })
    await s.create('configmaps', cm('a', 10))
    await s.close()
    expect(await mode(dir)).toBe(0o700)
    for (const f of await readdir(dir)) expect([f, await mode(join(dir, f))]).toEqual([f, 0o600])
    expect((await readdir(dir)).sort()).toEqual([snapshotFileName, walFileName])
  })

  it('tightens an existing data dir and files with looser modes, with a warning', async () => {
    const dir = join(await tempDir(), 'store')
    const s1 = await openDurableStore({ dataDir: dir, compactAfterBytes: 1 })
    await s1.create('configmaps', cm('a', 10))
    await s1.close()
    await chmod(dir, 0o755)
    await chmod(join(dir, walFileName), 0o644)
    await chmod(join(dir, snapshotFileName), 0o644)
    const warnings: string[] = []
    const s2 = await openDurableStore({ dataDir: dir, onWarning: (w) => warnings.push(w) })
    await s2.close()
    expect(await mode(dir)).toBe(0o700)
    expect(await mode(join(dir, walFileName))).toBe(0o600)
    expect(await mode(join(dir, snapshotFileName))).toBe(0o600)
    expect(warnings.join('\n')).toContain('tightened permissions from 755 to 700')
  })

  it('creates missing parent dirs private too', async () => {
    const parent = join(await tempDir(), 'a')
    await mkdir(parent, { mode: 0o700 })
    const s = await openDurableStore({ dataDir: join(parent, 'b', 'store') })
    await s.close()
    expect(await mode(join(parent, 'b'))).toBe(0o700)
  })
})
