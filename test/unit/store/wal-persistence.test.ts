import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeLog, encodeLine, openDurableStore, snapshotFileName, walFileName, type KubeObject } from '../../../src/store/index.js'

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kpe-wal-'))
  dirs.push(d)
  return d
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

function cm(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { name } }
}
const key = (name: string) => ({ resource: 'configmaps', namespace: 'default', name })

describe('WAL line format', () => {
  it('round-trips records and stops at a corrupt line', () => {
    const good = encodeLine({ rv: 1, ops: [] }) + encodeLine({ rv: 2, ops: [] })
    const bad = encodeLine({ rv: 3, ops: [] }).replace('"rv":3', '"rv":4')
    const decoded = decodeLog(Buffer.from(good + bad + encodeLine({ rv: 5, ops: [] })))
    expect(decoded.records.map((r) => r.rv)).toEqual([1, 2])
    expect(decoded.validBytes).toBe(Buffer.byteLength(good))
  })
})

describe('durable store', () => {
  it('survives a reopen with creates, updates and deletes intact', async () => {
    const dir = await tempDir()
    const s1 = await openDurableStore({ dataDir: dir })
    const a = await s1.create('configmaps', cm('a'))
    await s1.create('configmaps', cm('b'))
    await s1.update('configmaps', { ...a, data: { v: '2' } })
    await s1.delete(key('b'))
    await s1.close()
    const s2 = await openDurableStore({ dataDir: dir })
    expect(s2.get(key('a'))?.data).toEqual({ v: '2' })
    expect(s2.get(key('b'))).toBeUndefined()
    expect(s2.resourceVersion).toBe(4)
    expect((await s2.create('configmaps', cm('c'))).metadata.resourceVersion).toBe('5')
    await s2.close()
  })

  it('ignores and truncates a torn final record', async () => {
    const dir = await tempDir()
    const s1 = await openDurableStore({ dataDir: dir })
    await s1.create('configmaps', cm('a'))
    await s1.close()
    const torn = encodeLine({ rv: 2, ops: [{ t: 'put', k: 'configmaps/default/b', rv: 2, o: cm('b') }] })
    await appendFile(join(dir, walFileName), torn.slice(0, torn.length / 2))
    const warnings: string[] = []
    const s2 = await openDurableStore({ dataDir: dir, onWarning: (w) => warnings.push(w) })
    expect(s2.get(key('a'))).toBeDefined()
    expect(s2.get(key('b'))).toBeUndefined()
    expect(warnings[0]).toMatch(/torn or corrupt tail/)
    await s2.create('configmaps', cm('c'))
    await s2.close()
    const s3 = await openDurableStore({ dataDir: dir })
    expect(s3.list('configmaps').items.map((o) => o.metadata.name)).toEqual(['a', 'c'])
    await s3.close()
  })

  it('compacts the log into a snapshot and replays snapshot plus log', async () => {
    const dir = await tempDir()
    const s1 = await openDurableStore({ dataDir: dir, compactAfterBytes: 4096 })
    for (let i = 0; i < 100; i++) await s1.create('configmaps', cm(`c${i}`))
    await s1.delete(key('c7'))
    await s1.close()
    expect((await stat(join(dir, snapshotFileName))).size).toBeGreaterThan(0)
    expect((await stat(join(dir, walFileName))).size).toBeLessThan(4096 + 1024)
    const s2 = await openDurableStore({ dataDir: dir })
    expect(s2.list('configmaps').items).toHaveLength(99)
    expect(s2.resourceVersion).toBe(101)
    await s2.close()
  })

  it('skips log records already covered by the snapshot (crash between rename and truncate)', async () => {
    const dir = await tempDir()
    const s1 = await openDurableStore({ dataDir: dir, compactAfterBytes: 1 })
    await s1.create('configmaps', cm('a'))
    await s1.close()
    const snapshotText = await readFile(join(dir, snapshotFileName), 'utf8')
    expect(snapshotText).toContain('"rv":1')
    await writeFile(join(dir, walFileName), encodeLine({ rv: 1, ops: [{ t: 'put', k: 'configmaps/default/a', rv: 1, o: cm('a') }] }))
    const s2 = await openDurableStore({ dataDir: dir })
    expect(s2.resourceVersion).toBe(1)
    expect(s2.list('configmaps').items).toHaveLength(1)
    await s2.close()
  })

  it('group-commits concurrent creates: thousands per second', async () => {
    const dir = await tempDir()
    const store = await openDurableStore({ dataDir: dir })
    const n = 3000
    const start = performance.now()
    await Promise.all(Array.from({ length: n }, (_, i) => store.create('configmaps', cm(`c${i}`))))
    const perSecond = n / ((performance.now() - start) / 1000)
    expect(store.list('configmaps').items).toHaveLength(n)
    expect(perSecond).toBeGreaterThan(1000)
    await store.close()
  })
})
