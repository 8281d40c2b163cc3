/**
 * Crash safety of allocations: a child runs the control plane (built dist/) while creating and
 * deleting Services over HTTP; it is killed with SIGKILL at random moments and restarted on the
 * same data dir (or etcd). Every acknowledged Service survives with the ClusterIP/NodePort it was
 * given, and no ClusterIP or NodePort is ever held twice. Needs `npm run build` first (npm test does).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdStore, openDurableStore, type ObjectStore } from '../../src/store/index.js'
import { etcdForFile } from '../helpers/etcd-process.js'

const here = dirname(fileURLToPath(import.meta.url))
const childScript = join(here, 'controlplane-crash-child.mjs')
const built = existsSync(join(here, '../../dist/src/cluster/index.js'))
if (!built) console.warn('skipping the control-plane crash test: dist/ is not built (run npm run build)')
let work = ''

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kpe-cp-crash-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

/** Where the control plane keeps its objects: the data dir's store, or etcd. */
interface CrashStore {
  readonly name: string
  /** Endpoints for the child's etcd argument; undefined for the data dir's store. */
  etcdEndpoints(): string | undefined
  reopen(dataDir: string): Promise<ObjectStore>
}

function runAndKill(target: CrashStore, dataDir: string, prefix: string, delayMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const endpoints = target.etcdEndpoints()
    const child = spawn(process.execPath, [childScript, dataDir, prefix, ...(endpoints ? [endpoints] : [])], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d: string) => { err += d })
    child.stdout.on('data', (d: string) => {
      if (out === '' && d.startsWith('ready')) setTimeout(() => child.kill('SIGKILL'), delayMs)
      out += d
    })
    child.on('error', reject)
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited without being killed: ${err.slice(-2000)} ${out.slice(-500)}`))
      resolve(out.split('\n').slice(0, -1).filter((l) => l !== 'ready'))
    })
  })
}

interface Acked { clusterIP: string; nodePort: string }

function describeControlPlaneCrash(target: CrashStore): void {
  describe.skipIf(!built)(`control-plane crash safety: ${target.name}`, () => {
    it('keeps acknowledged Services and their allocations, never duplicating a ClusterIP or NodePort', async () => {
      const dataDir = join(work, target.name)
      const live = new Map<string, Acked>()
      // a delete that was in flight at the kill may or may not have happened
      const maybeDeleted = new Set<string>()
      let created = 0
      for (let round = 0; round < 5; round++) {
        for (const line of await runAndKill(target, dataDir, `r${round}`, 150 + Math.floor(Math.random() * 450))) {
          const [verb, name = '', clusterIP = '', nodePort = ''] = line.split(' ')
          if (verb === 'created') {
            live.set(name, { clusterIP, nodePort })
            created++
            if (Number(name.split('-')[1]) % 4 === 1) maybeDeleted.add(name)
          }
          if (verb === 'deleted') {
            live.delete(name)
            maybeDeleted.delete(name)
          }
        }
        const store = await target.reopen(dataDir)
        const items = store.list('services').items as unknown as { metadata: { name: string }; spec: { clusterIP: string; ports: { nodePort?: number }[] } }[]
        const byName = new Map(items.map((s) => [s.metadata.name, s]))
        for (const [name, a] of live) {
          const s = byName.get(name)
          if (!s && maybeDeleted.has(name)) continue
          expect(s, `round ${round}: ${name} acknowledged but lost`).toBeDefined()
          expect(s?.spec.clusterIP).toBe(a.clusterIP)
          expect(String(s?.spec.ports[0]?.nodePort ?? '-')).toBe(a.nodePort)
        }
        const ips = items.map((s) => s.spec.clusterIP)
        expect(new Set(ips).size, `round ${round}: duplicate ClusterIP`).toBe(ips.length)
        const ports = items.flatMap((s) => s.spec.ports.flatMap((p) => (p.nodePort ? [p.nodePort] : [])))
        expect(new Set(ports).size, `round ${round}: duplicate NodePort`).toBe(ports.length)
        await store.close()
        for (const name of maybeDeleted) if (!byName.has(name)) live.delete(name)
        maybeDeleted.clear()
      }
      expect(created).toBeGreaterThan(50)
    }, 90_000)
  })
}

describeControlPlaneCrash({ name: 'data dir', etcdEndpoints: () => undefined, reopen: (dataDir) => openDurableStore({ dataDir: join(dataDir, 'store') }) })

const etcd = etcdForFile('control-plane crash safety on etcd')
if (etcd) {
  describeControlPlaneCrash({
    name: 'etcd',
    etcdEndpoints: () => etcd.endpoints.join(','),
    reopen: () => EtcdStore.open({ endpoints: etcd.endpoints, compactionIntervalMs: 0 }),
  })
}
