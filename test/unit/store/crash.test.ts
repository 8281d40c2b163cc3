import { spawn } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDurableStore, snapshotFileName } from '../../../src/store/index.js'

const here = dirname(fileURLToPath(import.meta.url))
let work = ''
const childScript = join(here, 'crash-child.mjs')

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kpe-crash-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

/** Runs the child until it has acknowledged some writes, kills it with SIGKILL after a random delay. */
function runAndKill(dataDir: string, prefix: string, delayMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, dataDir, prefix, '300000'], { stdio: ['ignore', 'pipe', 'inherit'] })
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

describe('crash safety', () => {
  it('keeps every acknowledged write across SIGKILL at random moments, without duplicates', async () => {
    const dataDir = join(work, 'data')
    const acked = new Set<string>()
    const updated = new Set<string>()
    for (let round = 0; round < 6; round++) {
      const lines = await runAndKill(dataDir, `r${round}`, 100 + Math.floor(Math.random() * 400))
      for (const l of lines) {
        if (l.endsWith(' updated')) updated.add(l.slice(0, -' updated'.length))
        else acked.add(l)
      }
      const store = await openDurableStore({ dataDir })
      const items = store.list('configmaps', { namespace: 'default' }).items
      const names = new Set(items.map((o) => o.metadata.name ?? ''))
      const missing = [...acked].filter((n) => !names.has(n))
      expect(missing, `round ${round}: acknowledged but lost`).toEqual([])
      for (const n of updated) expect(items.find((o) => o.metadata.name === n)?.data).toEqual({ k: 'updated' })
      const rvs = items.map((o) => Number(o.metadata.resourceVersion))
      expect(new Set(rvs).size, 'resourceVersions are unique').toBe(rvs.length)
      expect(Math.max(...rvs)).toBeLessThanOrEqual(store.resourceVersion)
      await store.close()
    }
    expect(acked.size).toBeGreaterThan(100)
    // with a 300 kB compaction threshold the rounds also crash around snapshot writes
    expect((await stat(join(dataDir, snapshotFileName))).size).toBeGreaterThan(0)
  }, 60_000)
})

