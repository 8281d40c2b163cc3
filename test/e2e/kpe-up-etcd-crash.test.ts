/**
 * Crash safety on etcd: `kpe up --control-plane-only --store etcd://` is killed with SIGKILL while
 * many Service creates are in flight and restarted on the same etcd; every acknowledged Service
 * is there with its ClusterIP and NodePort, none held twice. Then a three-member etcd loses its
 * leader to SIGKILL and kpe goes on serving reads and writes; and kpe reaches an etcd that
 * requires client certificates through the --etcd-* TLS flags.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { etcdctlPath, requireEtcd, startEtcd, type EtcdCluster } from '../helpers/etcd-process.js'
import { execFileSync } from 'node:child_process'

interface ControlPlane { readonly child: ChildProcess; readonly url: string }

/** kpe up --control-plane-only on etcd; resolves with its API URL once it listens. */
function startControlPlane(dataDir: string, store: string, extra: readonly string[] = []): Promise<ControlPlane> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'up', '--control-plane-only', '--data-dir', dataDir, '--port', '0', '--store', store, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (d: string) => { out += d })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kpe up did not start: ${out}`)) }, 30_000)
    child.stdout!.on('data', (d: string) => {
      out += d
      const m = /listening on (http\S+)/.exec(out)
      if (m) { clearTimeout(timer); resolve({ child, url: m[1]! }) }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`kpe up exited (${code}): ${out}`)) })
  })
}

function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill('SIGKILL')
  return exited
}

interface Svc { metadata: { name: string }; spec: { clusterIP: string; ports: { nodePort?: number }[] } }

async function createService(url: string, name: string, nodePort: boolean): Promise<Svc> {
  const res = await fetch(`${url}/api/v1/namespaces/default/services`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, signal: AbortSignal.timeout(10_000),
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type: nodePort ? 'NodePort' : 'ClusterIP', ports: [{ port: 80 }] } }),
  })
  const body = await res.json() as Svc & { message?: string }
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${body.message ?? ''}`)
  return body
}

async function listServices(url: string): Promise<Svc[]> {
  const res = await fetch(`${url}/api/v1/namespaces/default/services`, { signal: AbortSignal.timeout(10_000) })
  if (res.status !== 200) throw new Error(`list services: ${res.status}`)
  return ((await res.json()) as { items: Svc[] }).items
}

if (requireEtcd('kpe up on etcd: crash safety')) {
  describe('kpe up --store etcd:// crash safety', () => {
    const clusters: EtcdCluster[] = []
    const dirs: string[] = []
    const children: ChildProcess[] = []
    afterAll(async () => {
      for (const c of children) await killHard(c)
      for (const c of clusters) await c.stop()
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    })

    it('SIGKILL of kpe mid-writes loses no acknowledged Service and never gives a ClusterIP or NodePort twice', async () => {
      const etcd = await startEtcd(1)
      clusters.push(etcd)
      const dataDir = mkdtempSync(join(tmpdir(), 'kpe-etcd-crash-'))
      dirs.push(dataDir)
      const acked = new Map<string, { clusterIP: string; nodePort: string }>()
      let n = 0
      for (let round = 0; round < 3; round++) {
        const cp = await startControlPlane(dataDir, etcd.url)
        children.push(cp.child)
        // what the previous rounds acknowledged is all there, with the same allocations
        const items = await listServices(cp.url)
        const byName = new Map(items.map((s) => [s.metadata.name, s]))
        for (const [name, a] of acked) {
          const s = byName.get(name)
          expect(s, `round ${round}: ${name} acknowledged but lost`).toBeDefined()
          expect(s?.spec.clusterIP).toBe(a.clusterIP)
          expect(String(s?.spec.ports[0]?.nodePort ?? '-')).toBe(a.nodePort)
        }
        const ips = items.map((s) => s.spec.clusterIP)
        expect(new Set(ips).size, `round ${round}: a ClusterIP held twice`).toBe(ips.length)
        const ports = items.flatMap((s) => s.spec.ports.flatMap((p) => (p.nodePort ? [p.nodePort] : [])))
        expect(new Set(ports).size, `round ${round}: a NodePort held twice`).toBe(ports.length)
        let killed = false
        const writer = async (): Promise<void> => {
          while (!killed) {
            const i = n++
            try {
              const s = await createService(cp.url, `s-${i}`, i % 3 === 0)
              acked.set(s.metadata.name, { clusterIP: s.spec.clusterIP, nodePort: String(s.spec.ports[0]?.nodePort ?? '-') })
            } catch (e) {
              if (!killed) throw e
            }
          }
        }
        const writers = Array.from({ length: 16 }, () => writer())
        await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 500)))
        killed = true
        await killHard(cp.child)
        await Promise.all(writers)
      }
      expect(acked.size).toBeGreaterThan(30)
      const last = await startControlPlane(dataDir, etcd.url)
      children.push(last.child)
      const names = new Set((await listServices(last.url)).map((s) => s.metadata.name))
      for (const name of acked.keys()) expect(names.has(name), `${name} acknowledged but lost`).toBe(true)
      await killHard(last.child)
    }, 90_000)

    it('a three-member etcd that loses its leader to SIGKILL: kpe goes on reading and writing', async () => {
      const etcd = await startEtcd(3)
      clusters.push(etcd)
      const dataDir = mkdtempSync(join(tmpdir(), 'kpe-etcd-3-'))
      dirs.push(dataDir)
      const cp = await startControlPlane(dataDir, etcd.url)
      children.push(cp.child)
      for (let i = 0; i < 5; i++) await createService(cp.url, `before-${i}`, false)
      const status = JSON.parse(execFileSync(etcdctlPath, ['--endpoints', etcd.endpoints, 'endpoint', 'status', '-w', 'json'], { env: { ETCDCTL_API: '3', PATH: '/usr/bin:/bin' } }).toString()) as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[]
      const leader = status.find((s) => String(s.Status.header.member_id) === String(s.Status.leader))
      const victim = etcd.members.find((m) => leader?.Endpoint.endsWith(m.endpoint)) ?? etcd.members[0]!
      await victim.kill()
      // reads come from kpe's cache at once; writes wait for the new leader (about one election timeout)
      expect((await listServices(cp.url)).filter((s) => s.metadata.name.startsWith('before-'))).toHaveLength(5)
      const started = Date.now()
      let written = 0
      let failures = 0
      while (written < 10 && Date.now() - started < 20_000) {
        try {
          await createService(cp.url, `after-${written}`, written % 2 === 0)
          written++
        } catch {
          failures++
          await new Promise((r) => setTimeout(r, 200))
        }
      }
      expect(written, `writes after losing the leader (${failures} refused meanwhile)`).toBe(10)
      const names = (await listServices(cp.url)).map((s) => s.metadata.name)
      expect(names.filter((n) => n.startsWith('after-'))).toHaveLength(10)
      console.log(`[etcd 3 members] leader ${victim.name} killed: 10 writes done in ${Date.now() - started} ms, ${failures} refused meanwhile`)
      await killHard(cp.child)
    }, 60_000)

    it('--etcd-cafile, --etcd-certfile, --etcd-keyfile: kpe on an etcd that requires client certificates', async () => {
      const etcd = await startEtcd(1, { tls: true })
      clusters.push(etcd)
      const tls = etcd.tls!
      const dataDir = mkdtempSync(join(tmpdir(), 'kpe-etcd-tls-'))
      dirs.push(dataDir)
      const cp = await startControlPlane(dataDir, etcd.url, ['--etcd-cafile', tls.caFile, '--etcd-certfile', tls.certFile, '--etcd-keyfile', tls.keyFile, '--etcd-prefix', '/kpe-tls'])
      children.push(cp.child)
      const svc = await createService(cp.url, 'secure', false)
      const keys = execFileSync(etcdctlPath, ['--endpoints', `https://${etcd.endpoints}`, '--cacert', tls.caFile, '--cert', tls.certFile, '--key', tls.keyFile, 'get', '--prefix', '--keys-only', '/kpe-tls/services/specs/'], { env: { ETCDCTL_API: '3', PATH: '/usr/bin:/bin' } }).toString()
      expect(keys.split('\n').filter(Boolean)).toEqual(expect.arrayContaining(['/kpe-tls/services/specs/default/secure']))
      expect(svc.spec.clusterIP).toMatch(/^10\./)
      await killHard(cp.child)
      // without the client certificate etcd refuses kpe, which says so and stops
      await expect(startControlPlane(dataDir, etcd.url, ['--etcd-cafile', tls.caFile])).rejects.toThrow(/is etcd running\?/)
    }, 30_000)
  })
}
