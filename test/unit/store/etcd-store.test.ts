import { execFile } from 'node:child_process'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { Etcd3 } from 'etcd3'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { EtcdStore, type KubeObject, type StoreEvent } from '../../../src/store/index.js'
import { etcdctlPath, requireEtcd, startEtcd, type EtcdCluster } from '../../helpers/etcd-process.js'

function etcdctl(endpoints: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(etcdctlPath, ['--endpoints', endpoints, ...args], { env: { ETCDCTL_API: '3', PATH: '/usr/bin:/bin' }, encoding: 'latin1', maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, stdout, stderr })
    })
  })
}

/** A loopback TCP relay to etcd that the test can cut (every connection dropped, new ones refused) and restore. */
async function relay(target: string): Promise<{ endpoint: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const [host = '127.0.0.1', port = '0'] = target.split(':')
  let open = true
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    if (!open) return client.destroy()
    const upstream = connect(Number(port), host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => { client.destroy(); upstream.destroy() })
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    endpoint: `127.0.0.1:${(server.address() as { port: number }).port}`,
    cut: () => { open = false; for (const s of sockets) s.destroy() },
    restore: () => { open = true },
    close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(() => r())) },
  }
}

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data })
const until = async (ok: () => boolean, what: string, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

if (requireEtcd('EtcdStore')) {
  describe('EtcdStore on a real etcd', () => {
    let etcd: EtcdCluster
    const stores: EtcdStore[] = []
    const open = async (extra: Partial<Parameters<typeof EtcdStore.open>[0]> = {}): Promise<EtcdStore> => {
      const s = await EtcdStore.open({ endpoints: etcd.endpoints.split(','), compactionIntervalMs: 0, ...extra })
      stores.push(s)
      return s
    }
    beforeAll(async () => { etcd = await startEtcd(1) }, 30_000)
    afterAll(async () => { await etcd?.stop() })
    afterEach(async () => { for (const s of stores.splice(0)) await s.close() })

    it('keeps a Service where kube-apiserver does, protobuf-encoded, and etcdctl finds it', async () => {
      const store = await open()
      const svc = await store.create('services', {
        apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', uid: 'u-web' },
        spec: { clusterIP: '10.96.0.20', ports: [{ port: 80, protocol: 'TCP' }] },
      })
      const keys = await etcdctl(etcd.endpoints, 'get', '--prefix', '--keys-only', '/registry/services/specs/')
      expect(keys.stdout.trim().split('\n').filter(Boolean)).toEqual(['/registry/services/specs/default/web'])
      const value = await etcdctl(etcd.endpoints, 'get', '--print-value-only', '/registry/services/specs/default/web')
      expect(value.stdout.startsWith('k8s\u0000')).toBe(true)
      expect(value.stdout).toContain('10.96.0.20')
      const rev = await etcdctl(etcd.endpoints, 'get', '-w', 'json', '/registry/services/specs/default/web')
      expect(String(JSON.parse(rev.stdout).kvs[0].mod_revision)).toBe(svc.metadata.resourceVersion)
    })

    it('reads back exactly what it wrote, though etcd holds the protobuf form that drops empty values', async () => {
      const store = await open({ prefix: '/exact' })
      const seen: StoreEvent[] = []
      store.watch('deployments.apps', {}, (e) => seen.push(e))
      const d: KubeObject = {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
        spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
        status: { unavailableReplicas: 0, conditions: [] },
      }
      const written = await store.create('deployments.apps', d)
      expect(written['status']).toEqual({ unavailableReplicas: 0, conditions: [] })
      expect(store.get({ resource: 'deployments.apps', namespace: 'default', name: 'web' })).toEqual(written)
      expect(seen.map((e) => e.object)).toEqual([written])
      const raw = await etcdctl(etcd.endpoints, 'get', '--print-value-only', '/exact/deployments/default/web')
      expect(raw.stdout.startsWith('k8s\u0000')).toBe(true)
      // a store opened later sees etcd's form, as kube-apiserver would serve it
      const later = await open({ prefix: '/exact' })
      expect(later.get({ resource: 'deployments.apps', namespace: 'default', name: 'web' })?.['status']).toEqual({})
    })

    it('follows writes made to etcd by others: reads and watchers see them', async () => {
      const store = await open()
      const seen: StoreEvent[] = []
      store.watch('configmaps', {}, (e) => seen.push(e))
      const put = await etcdctl(etcd.endpoints, 'put', '/registry/configmaps/default/outside', JSON.stringify(cm('outside', { by: 'etcdctl' })))
      expect(put.code).toBe(0)
      await until(() => store.get({ resource: 'configmaps', namespace: 'default', name: 'outside' }) !== undefined, 'the outside put')
      await etcdctl(etcd.endpoints, 'del', '/registry/configmaps/default/outside')
      await until(() => seen.length === 2, 'two events')
      expect(seen.map((e) => `${e.type} ${e.object.metadata.name} ${e.object['data'] ? JSON.stringify(e.object['data']) : ''}`))
        .toEqual(['ADDED outside {"by":"etcdctl"}', 'DELETED outside {"by":"etcdctl"}'])
      expect(seen[1]!.resourceVersion).toBeGreaterThan(seen[0]!.resourceVersion)
    })

    it('serves no value put by others that fails the load check or names another object; a refused value ends what its key served', async () => {
      const warnings: string[] = []
      const admit = (resource: string, o: KubeObject): readonly string[] => (resource === 'configmaps' && o['data'] === undefined ? ['data: Required value'] : [])
      const store = await open({ prefix: '/foreign', admit, onWarning: (w) => warnings.push(w) })
      const seen: StoreEvent[] = []
      store.watch('configmaps', {}, (e) => seen.push(e))
      const k = { resource: 'configmaps', namespace: 'default', name: 'shared' }
      await store.create('configmaps', cm('shared', { v: '1' }))
      // another object under this key's name, then a value the check refuses: neither is served
      await etcdctl(etcd.endpoints, 'put', '/foreign/configmaps/default/misnamed', JSON.stringify(cm('other')))
      await etcdctl(etcd.endpoints, 'put', '/foreign/configmaps/default/shared', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: 'default' } }))
      await until(() => store.get(k) === undefined, 'the refused value to end the served one')
      expect(store.get({ ...k, name: 'misnamed' })).toBeUndefined()
      expect(store.list('configmaps').items).toEqual([])
      expect(seen.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED shared', 'DELETED shared'])
      expect(warnings.some((w) => w.includes('/foreign/configmaps/default/misnamed') && w.includes('not the object its key names')), warnings.join('\n')).toBe(true)
      expect(warnings.some((w) => w.includes('/foreign/configmaps/default/shared') && w.includes('data: Required value')), warnings.join('\n')).toBe(true)
      // a store opened later skips both as well
      const later = await open({ prefix: '/foreign', admit })
      expect(later.list('configmaps').items).toEqual([])
    })

    it('an update planned on a stale cache is refused by etcd and retried on the fresh value; a stale precondition is a Conflict', async () => {
      const store = await open({ prefix: '/race' })
      const other = new Etcd3({ hosts: etcd.endpoints.split(',').map((e) => `http://${e}`) })
      try {
        const k = { resource: 'configmaps', namespace: 'default', name: 'shared' }
        const first = await store.create('configmaps', cm('shared', { v: '1' }))
        // another writer changes the key; the update below is planned before the cache hears of it
        let stale = false
        for (let i = 0; i < 20 && !stale; i++) {
          await other.put('/race/configmaps/default/shared').value(JSON.stringify(cm('shared', { v: `other-${i}` })))
          stale = !JSON.stringify(store.get(k)?.['data']).includes(`other-${i}`)
          if (!stale) continue
          const mine = await store.update('configmaps', { ...first, data: { v: 'mine' } })
          expect(store.get(k)?.['data']).toEqual({ v: 'mine' })
          expect(Number(mine.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion) + 1)
        }
        expect(stale).toBe(true)
        await expect(store.update('configmaps', { ...first, data: { v: 'late' } }, { resourceVersion: first.metadata.resourceVersion ?? '' })).rejects.toMatchObject({ reason: 'Conflict' })
      } finally {
        other.close()
      }
    })

    it('a store opened again serves the same objects at the same resourceVersions; older watches answer Expired', async () => {
      const first = await open({ prefix: '/reopen' })
      const written = [await first.create('configmaps', cm('x', { k: 'x' })), await first.create('configmaps', cm('y', { k: 'y' }))]
      await first.close()
      const again = await open({ prefix: '/reopen' })
      expect(again.list('configmaps').items).toEqual(written)
      expect(() => again.watch('configmaps', { sinceResourceVersion: Number(written[0]!.metadata.resourceVersion) }, () => {})).toThrow(/too old resource version/)
    })

    it('while etcd is down, writes fail with Unavailable naming the key and reads go on; once it is back, writes work again', async () => {
      const store = await open({ prefix: '/outage' })
      const before = await store.create('configmaps', cm('before', { v: '1' }))
      await etcd.members[0]!.kill()
      try {
        await expect(store.create('configmaps', cm('during'))).rejects.toMatchObject({ reason: 'Unavailable', message: expect.stringContaining('/outage/configmaps/default/during') })
        expect(store.get({ resource: 'configmaps', namespace: 'default', name: 'before' })).toEqual(before)
        expect(store.list('configmaps').items).toEqual([before])
      } finally {
        await etcd.members[0]!.restart()
      }
      // the client retries a failed member after its circuit breaker's 5 s
      const deadline = Date.now() + 15_000
      let after: KubeObject | undefined
      while (!after) {
        try {
          after = await store.create('configmaps', cm('after'))
        } catch (e) {
          if (Date.now() > deadline) throw e
          await new Promise((r) => setTimeout(r, 250))
        }
      }
      expect(store.list('configmaps').items.map((o) => o.metadata.name)).toEqual(['after', 'before'])
      expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion))
    }, 30_000)

    it('when its etcd watch comes back at a compacted revision, it reads the prefix again and tells watchers the differences', async () => {
      const link = await relay(etcd.endpoints)
      const warnings: string[] = []
      try {
        const store = await open({ endpoints: [link.endpoint], prefix: '/relist', onWarning: (w) => warnings.push(w) })
        const kept = await store.create('configmaps', cm('kept', { v: '1' }))
        await store.create('configmaps', cm('dropped', { v: '1' }))
        const seen: StoreEvent[] = []
        store.watch('configmaps', {}, (e) => seen.push(e))
        // kpe loses etcd; meanwhile others write and compact past the revision its watch had reached
        link.cut()
        await etcdctl(etcd.endpoints, 'put', '/relist/configmaps/default/outside', JSON.stringify(cm('outside', { by: 'etcdctl' })))
        await etcdctl(etcd.endpoints, 'del', '/relist/configmaps/default/dropped')
        const status = JSON.parse((await etcdctl(etcd.endpoints, 'endpoint', 'status', '-w', 'json')).stdout) as { Status: { header: { revision: number } } }[]
        expect((await etcdctl(etcd.endpoints, 'compaction', String(status[0]!.Status.header.revision))).code).toBe(0)
        link.restore()
        await until(() => store.get({ resource: 'configmaps', namespace: 'default', name: 'outside' }) !== undefined, 'the reload', 20_000)
        expect(warnings.some((w) => /etcd canceled kpe's watch on \/relist\/ .*compacted.*reading \/relist\/ again/.test(w)), warnings.join('\n')).toBe(true)
        expect(store.list('configmaps').items.map((o) => o.metadata.name)).toEqual(['kept', 'outside'])
        expect(store.get({ resource: 'configmaps', namespace: 'default', name: 'kept' })).toEqual(kept)
        expect(seen.map((e) => `${e.type} ${e.object.metadata.name}`).sort()).toEqual(['ADDED outside', 'DELETED dropped'])
        expect(new Set(seen.map((e) => e.resourceVersion)).size).toBe(1)
        const after = await store.create('configmaps', cm('after'))
        expect(store.get({ resource: 'configmaps', namespace: 'default', name: 'after' })).toEqual(after)
      } finally {
        await link.close()
      }
    }, 40_000)

    it('compacts etcd as kube-apiserver does: to the revision seen one interval earlier', async () => {
      const store = await open({ prefix: '/compact', compactionIntervalMs: 150 })
      const old = await store.create('configmaps', cm('old'))
      await store.update('configmaps', { ...old, data: { v: '2' } })
      const deadline = Date.now() + 5_000
      let r = await etcdctl(etcd.endpoints, 'get', '--rev', String(Number(old.metadata.resourceVersion) - 1), '/compact/configmaps/default/old')
      while (r.code === 0 && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 100))
        r = await etcdctl(etcd.endpoints, 'get', '--rev', String(Number(old.metadata.resourceVersion) - 1), '/compact/configmaps/default/old')
      }
      expect(r.stderr).toMatch(/compacted/)
      expect(store.get({ resource: 'configmaps', namespace: 'default', name: 'old' })?.['data']).toEqual({ v: '2' })
    })
  })
}

if (requireEtcd('EtcdStore over TLS')) {
  describe('EtcdStore over TLS with client certificates', () => {
    let etcd: EtcdCluster
    beforeAll(async () => { etcd = await startEtcd(1, { tls: true }) }, 30_000)
    afterAll(async () => { await etcd?.stop() })

    it('writes and reads with the CA and a client certificate; without the certificate etcd refuses it', async () => {
      const tls = etcd.tls!
      const store = await EtcdStore.open({ endpoints: [etcd.endpoints], tls: { ca: tls.ca, cert: tls.cert, key: tls.key }, compactionIntervalMs: 0 })
      try {
        const made = await store.create('configmaps', cm('secure', { over: 'tls' }))
        expect(store.get({ resource: 'configmaps', namespace: 'default', name: 'secure' })).toEqual(made)
      } finally {
        await store.close()
      }
      await expect(EtcdStore.open({ endpoints: [etcd.endpoints], tls: { ca: tls.ca }, compactionIntervalMs: 0, dialTimeoutMs: 2_000 }))
        .rejects.toMatchObject({ reason: 'Unavailable' })
    })
  })
}
