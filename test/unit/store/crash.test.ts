/**
 * Crash safety of the durable stores: a writer with 32 writes in flight is killed with SIGKILL at
 * random moments, N rounds; after each, the store opens again (the WAL data dir, the etcd keyspace)
 * and holds every acknowledged write, once, with unique resourceVersions. Same test, each store.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdStore, openDurableStore, snapshotFileName, type ObjectStore } from '../../../src/store/index.js'
import { etcdForFile } from '../../helpers/etcd-process.js'

const here = dirname(fileURLToPath(import.meta.url))
const childScript = join(here, 'crash-child.mjs')

interface CrashTarget {
  readonly name: string
  /** The child's arguments naming its store: `wal DIR` or `etcd ENDPOINTS`. */
  childStore(): readonly string[]
  /** The store the child wrote, opened again as after a crash. */
  reopen(): Promise<ObjectStore>
  /** Checks of the store's own files after the rounds. */
  afterRounds?(): Promise<void>
}

/** Runs the child until it has acknowledged some writes, kills it with SIGKILL after a random delay. */
function runAndKill(target: CrashTarget, prefix: string, delayMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, ...target.childStore(), prefix, '300000'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d: string) => {
      if (out === '' && d.startsWith('ready')) setTimeout(() => child.kill('SIGKILL'), delayMs)
      out += d
    })
    child.on('error', reject)
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited without being killed: ${out.slice(-500)}`))
      // a line without its newline may have been cut by the kill: not acknowledged as far as we know
      resolve(out.split('\n').slice(0, -1).filter((l) => l !== 'ready'))
    })
  })
}

function describeCrashSafety(target: CrashTarget, timeoutMs: number): void {
  describe(`crash safety: ${target.name}`, () => {
    it('keeps every acknowledged write across SIGKILL at random moments, without duplicates', async () => {
      const acked = new Set<string>()
      const updated = new Set<string>()
      for (let round = 0; round < 6; round++) {
        const lines = await runAndKill(target, `r${round}`, 100 + Math.floor(Math.random() * 400))
        for (const l of lines) {
          if (l.endsWith(' updated')) updated.add(l.slice(0, -' updated'.length))
          else acked.add(l)
        }
        const store = await target.reopen()
        try {
          const items = store.list('configmaps', { namespace: 'default' }).items
          const names = new Set(items.map((o) => o.metadata.name ?? ''))
          const missing = [...acked].filter((n) => !names.has(n))
          expect(missing, `round ${round}: acknowledged but lost`).toEqual([])
          for (const n of updated) expect(items.find((o) => o.metadata.name === n)?.data, `round ${round}: ${n}`).toEqual({ k: 'updated' })
          const rvs = items.map((o) => Number(o.metadata.resourceVersion))
          expect(new Set(rvs).size, 'resourceVersions are unique').toBe(rvs.length)
          expect(Math.max(...rvs)).toBeLessThanOrEqual(store.resourceVersion)
        } finally {
          await store.close()
        }
      }
      expect(acked.size).toBeGreaterThan(100)
      await target.afterRounds?.()
    }, timeoutMs)
  })
}

let work = ''
beforeAll(async () => { work = await mkdtemp(join(tmpdir(), 'kpe-crash-')) })
afterAll(async () => { await rm(work, { recursive: true, force: true }) })

describeCrashSafety({
  name: 'embedded WAL',
  childStore: () => ['wal', join(work, 'data')],
  reopen: () => openDurableStore({ dataDir: join(work, 'data') }),
  // with a 300 kB compaction threshold the rounds also crash around snapshot writes
  afterRounds: async () => { expect((await stat(join(work, 'data', snapshotFileName))).size).toBeGreaterThan(0) },
}, 60_000)

const etcd = etcdForFile('crash safety on etcd')
if (etcd) {
  describeCrashSafety({
    name: 'etcd',
    childStore: () => ['etcd', etcd.endpoints.join(',')],
    reopen: () => EtcdStore.open({ endpoints: etcd.endpoints, compactionIntervalMs: 0 }),
  }, 90_000)
}
