/**
 * The ObjectStore contract as one suite, run against every implementation (the embedded WAL
 * store, memory-only, etcd): CRUD, preconditions, all-or-nothing transactions, list with
 * resourceVersion, watch replay and ordering, and Expired outside the retained history.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { isStoreError, type KubeObject, type ObjectStore, type StoreEvent } from '../../../src/store/index.js'

export interface ContractTarget {
  readonly name: string
  /** A fresh, empty store; each gets closed by the suite. */
  open(opts: { readonly historySize?: number }): Promise<ObjectStore>
}

function cm(name: string, data: Record<string, string> = {}, namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, uid: `uid-${name}` }, data }
}

const rv = (o: KubeObject): number => Number(o.metadata.resourceVersion)
const key = (name: string, namespace = 'default') => ({ resource: 'configmaps', namespace, name })

export function describeStoreContract(target: ContractTarget): void {
  describe(`ObjectStore contract: ${target.name}`, () => {
    const open: ObjectStore[] = []
    const fresh = async (opts: { historySize?: number } = {}): Promise<ObjectStore> => {
      const s = await target.open(opts)
      open.push(s)
      return s
    }
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close()
    })

    it('creates, reads back, updates and deletes, each write with a greater resourceVersion', async () => {
      const store = await fresh()
      const a = await store.create('configmaps', cm('a', { v: '1' }))
      expect(store.get(key('a'))).toEqual(a)
      const a2 = await store.update('configmaps', { ...a, data: { v: '2' } })
      expect(rv(a2)).toBeGreaterThan(rv(a))
      expect(store.get(key('a'))?.['data']).toEqual({ v: '2' })
      const gone = await store.delete(key('a'))
      expect(rv(gone)).toBeGreaterThan(rv(a2))
      expect(gone['data']).toEqual({ v: '2' })
      expect(store.get(key('a'))).toBeUndefined()
      expect(store.resourceVersion).toBe(rv(gone))
    })

    it('answers AlreadyExists, NotFound and Conflict (stale resourceVersion, other uid) and changes nothing', async () => {
      const store = await fresh()
      const a = await store.create('configmaps', cm('a'))
      await expect(store.create('configmaps', cm('a'))).rejects.toMatchObject({ reason: 'AlreadyExists' })
      await expect(store.update('configmaps', cm('missing'))).rejects.toMatchObject({ reason: 'NotFound' })
      await expect(store.delete(key('missing'))).rejects.toMatchObject({ reason: 'NotFound' })
      const a2 = await store.update('configmaps', { ...a, data: { v: '2' } }, { resourceVersion: a.metadata.resourceVersion ?? '' })
      await expect(store.update('configmaps', { ...a, data: { v: '3' } }, { resourceVersion: a.metadata.resourceVersion ?? '' })).rejects.toMatchObject({ reason: 'Conflict' })
      await expect(store.delete(key('a'), { uid: 'someone-else' })).rejects.toMatchObject({ reason: 'Conflict' })
      await expect(store.delete(key('a'), { resourceVersion: a.metadata.resourceVersion ?? '' })).rejects.toMatchObject({ reason: 'Conflict' })
      expect(store.get(key('a'))).toEqual(a2)
      await store.delete(key('a'), { uid: 'uid-a', resourceVersion: a2.metadata.resourceVersion ?? '' })
      expect(store.get(key('a'))).toBeUndefined()
    })

    it('applies a transaction all or nothing', async () => {
      const store = await fresh()
      await store.create('configmaps', cm('taken'))
      const before = store.resourceVersion
      await expect(store.transact([
        { type: 'create', resource: 'configmaps', object: cm('new') },
        { type: 'create', resource: 'configmaps', object: cm('taken') },
      ])).rejects.toSatisfy((e) => isStoreError(e, 'AlreadyExists'))
      expect(store.get(key('new'))).toBeUndefined()
      expect(store.resourceVersion).toBe(before)
      const out = await store.transact([
        { type: 'create', resource: 'configmaps', object: cm('x') },
        { type: 'delete', key: key('taken') },
      ])
      expect(out.map((o) => o.metadata.name)).toEqual(['x', 'taken'])
      expect(store.get(key('x'))).toBeDefined()
      expect(store.get(key('taken'))).toBeUndefined()
      expect(rv(out[0]!)).toBeGreaterThan(before)
    })

    it('lists one resource, by namespace, in name order, at the store resourceVersion, as frozen objects', async () => {
      const store = await fresh()
      await store.create('configmaps', cm('b', {}, 'ns1'))
      await store.create('configmaps', cm('a', {}, 'ns1'))
      await store.create('configmaps', cm('c', {}, 'ns2'))
      const last = await store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns1' } })
      const { items, resourceVersion } = store.list('configmaps', { namespace: 'ns1' })
      expect(items.map((i) => i.metadata.name)).toEqual(['a', 'b'])
      expect(resourceVersion).toBe(rv(last))
      expect(store.list('configmaps').items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c'])
      expect(() => { (items[0] as KubeObject).metadata.name = 'mutated' }).toThrow()
    })

    it('replays events after a resourceVersion in order, then delivers live ones, filtered by namespace', async () => {
      const store = await fresh()
      const a = await store.create('configmaps', cm('a'))
      await store.create('configmaps', cm('other', {}, 'kube-system'))
      const a2 = await store.update('configmaps', { ...a, data: { v: '1' } })
      const seen: StoreEvent[] = []
      const h = store.watch('configmaps', { namespace: 'default', sinceResourceVersion: rv(a) }, (e) => seen.push(e))
      const gone = await store.delete(key('a'))
      h.stop()
      await store.create('configmaps', cm('late'))
      expect(seen.map((e) => `${e.type} ${e.object.metadata.name} ${e.resourceVersion}`)).toEqual([`MODIFIED a ${rv(a2)}`, `DELETED a ${rv(gone)}`])
      expect(seen[1]?.object.metadata.resourceVersion).toBe(String(rv(gone)))
    })

    it('delivers concurrent writers\' events once each, in resourceVersion order, matching what they were told', async () => {
      const store = await fresh()
      const seen: number[] = []
      store.watch('configmaps', {}, (e) => seen.push(e.resourceVersion))
      const written = await Promise.all(Array.from({ length: 24 }, (_, i) => store.create('configmaps', cm(`c${i}`))))
      await store.settled()
      const rvs = written.map(rv)
      expect(new Set(rvs).size).toBe(rvs.length)
      expect(seen).toEqual([...rvs].sort((x, y) => x - y))
      expect(store.list('configmaps').items).toHaveLength(24)
    })

    it('close() lets the writes in flight finish: each is acknowledged, and close resolves', async () => {
      const store = await fresh()
      const writes = Array.from({ length: 8 }, (_, i) => store.create('configmaps', cm(`w${i}`)))
      // a close that waited on writes it no longer lets finish would hang: bound it to say so
      const hung = new Promise<string>((resolve) => setTimeout(() => resolve('close() did not resolve within 5 s'), 5_000).unref())
      expect(await Promise.race([store.close().then(() => 'closed'), hung])).toBe('closed')
      const done = await Promise.allSettled(writes)
      expect(done.map((d) => d.status)).toEqual(writes.map(() => 'fulfilled'))
      expect(new Set(done.map((d) => (d.status === 'fulfilled' ? rv(d.value) : 0))).size).toBe(writes.length)
    })

    it('answers Expired when the requested resourceVersion left the retained window', async () => {
      const store = await fresh({ historySize: 3 })
      const written: KubeObject[] = []
      for (let i = 0; i < 6; i++) written.push(await store.create('configmaps', cm(`c${i}`)))
      expect(() => store.watch('configmaps', { sinceResourceVersion: rv(written[0]!) }, () => {})).toThrow(/too old resource version/)
      const seen: number[] = []
      store.watch('configmaps', { sinceResourceVersion: rv(written[2]!) }, (e) => seen.push(e.resourceVersion)).stop()
      expect(seen).toEqual(written.slice(3).map(rv))
    })
  })
}
