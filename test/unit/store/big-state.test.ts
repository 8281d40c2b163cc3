/**
 * The real thing behind store-limits.test.ts: a live state over V8's string limit (~512 MiB).
 * Compaction must write it, a restart must load it. About 12 s, ~2 GB of memory and 1.2 GB in
 * the temp dir; KPE_STORE_BIG=0 skips it on machines without that much room.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDurableStore, snapshotFileName } from '../../../src/store/index.js'

const enabled = process.env['KPE_STORE_BIG'] !== '0'
const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

describe.skipIf(!enabled)('a store past 512 MiB of live state', () => {
  it('compacts into a snapshot larger than any string and loads it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kpe-big-'))
    dirs.push(dir)
    const objectBytes = 1024 * 1024
    const count = 600
    const payload = 'x'.repeat(objectBytes)
    // compact once, near the end, so the test writes the big snapshot one time
    const s1 = await openDurableStore({ dataDir: dir, compactAfterBytes: (count - 10) * objectBytes })
    for (let i = 0; i < count; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => s1.create('configmaps', {
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big-${i + j}`, namespace: 'default' }, data: { v: payload },
      })))
    }
    expect(s1.liveBytes).toBeGreaterThan(2 ** 29)
    await s1.close()
    expect((await stat(join(dir, snapshotFileName))).size).toBeGreaterThan(2 ** 29)
    const s2 = await openDurableStore({ dataDir: dir })
    expect(s2.list('configmaps').items).toHaveLength(count)
    expect(s2.resourceVersion).toBe(count)
    await s2.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after', namespace: 'default' } })
    await s2.close()
  }, 300_000)
})
