import { describe, expect, it } from 'vitest'
import { isStoreError, openMemoryStore, VersionedStore, type KubeObject, type StoreEvent } from '../../../src/store/index.js'

function cm(name: string, data: Record<string, string> = {}, namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data }
}

describe('VersionedStore', () => {
  it('assigns a cluster-wide, strictly increasing resourceVersion to every write', async () => {
    const store = await openMemoryStore()
    const a = await store.create('configmaps', cm('a'))
    const b = await store.create('secrets', cm('b'))
    const a2 = await store.update('configmaps', { ...a, data: { x: '1' } })
    expect([a, b, a2].map((o) => Number(o.metadata.resourceVersion))).toEqual([1, 2, 3])
    expect(store.resourceVersion).toBe(3)
    expect(store.list('configmaps').resourceVersion).toBe(3)
  })

  it('rejects a duplicate create with AlreadyExists and a stale update with Conflict', async () => {
    const store = await openMemoryStore()
    const a = await store.create('configmaps', cm('a'))
    await expect(store.create('configmaps', cm('a'))).rejects.toMatchObject({ reason: 'AlreadyExists' })
    await store.update('configmaps', { ...a, data: { v: '2' } }, { resourceVersion: a.metadata.resourceVersion ?? '' })
    await expect(store.update('configmaps', { ...a, data: { v: '3' } }, { resourceVersion: a.metadata.resourceVersion ?? '' }))
      .rejects.toMatchObject({ reason: 'Conflict' })
    await expect(store.delete({ resource: 'configmaps', namespace: 'default', name: 'zz' })).rejects.toMatchObject({ reason: 'NotFound' })
  })

  it('applies a transaction all or nothing', async () => {
    const store = await openMemoryStore()
    await store.create('configmaps', cm('taken'))
    await expect(store.transact([
      { type: 'create', resource: 'configmaps', object: cm('new') },
      { type: 'create', resource: 'configmaps', object: cm('taken') },
    ])).rejects.toSatisfy((e) => isStoreError(e, 'AlreadyExists'))
    expect(store.get({ resource: 'configmaps', namespace: 'default', name: 'new' })).toBeUndefined()
    const out = await store.transact([
      { type: 'create', resource: 'configmaps', object: cm('x') },
      { type: 'delete', key: { resource: 'configmaps', namespace: 'default', name: 'taken' } },
    ])
    expect(out.map((o) => o.metadata.resourceVersion)).toEqual(['2', '3'])
  })

  it('lists by namespace in name order and hands out frozen objects', async () => {
    const store = await openMemoryStore()
    await store.create('configmaps', cm('b', {}, 'ns1'))
    await store.create('configmaps', cm('a', {}, 'ns1'))
    await store.create('configmaps', cm('c', {}, 'ns2'))
    const { items } = store.list('configmaps', { namespace: 'ns1' })
    expect(items.map((i) => i.metadata.name)).toEqual(['a', 'b'])
    expect(() => { (items[0] as KubeObject).metadata.name = 'mutated' }).toThrow()
  })

  it('replays events after a resourceVersion, then delivers live ones, filtered by namespace', async () => {
    const store = await openMemoryStore()
    const a = await store.create('configmaps', cm('a'))
    await store.create('configmaps', cm('other', {}, 'kube-system'))
    await store.update('configmaps', { ...a, data: { v: '1' } })
    const seen: StoreEvent[] = []
    const h = store.watch('configmaps', { namespace: 'default', sinceResourceVersion: 1 }, (e) => seen.push(e))
    await store.delete({ resource: 'configmaps', namespace: 'default', name: 'a' })
    h.stop()
    await store.create('configmaps', cm('late'))
    expect(seen.map((e) => `${e.type} ${e.object.metadata.name} ${e.resourceVersion}`)).toEqual(['MODIFIED a 3', 'DELETED a 4'])
  })

  it('answers Expired when the requested resourceVersion left the retained window', async () => {
    const store = await openMemoryStore({ historySize: 3 })
    for (let i = 0; i < 6; i++) await store.create('configmaps', cm(`c${i}`))
    expect(() => store.watch('configmaps', { sinceResourceVersion: 1 }, () => {})).toThrow(/too old resource version/)
    const seen: number[] = []
    store.watch('configmaps', { sinceResourceVersion: 3 }, (e) => seen.push(e.resourceVersion)).stop()
    expect(seen).toEqual([4, 5, 6])
  })

  it('does not show a write to readers or watchers before it is durable', async () => {
    const store = await openMemoryStore()
    const events: string[] = []
    store.watch('configmaps', {}, (e) => events.push(e.object.metadata.name ?? ''))
    const p = store.create('configmaps', cm('slow'))
    expect(store.get({ resource: 'configmaps', namespace: 'default', name: 'slow' })).toBeUndefined()
    await expect(store.create('configmaps', cm('slow'))).rejects.toMatchObject({ reason: 'AlreadyExists' })
    await p
    expect(events).toEqual(['slow'])
  })
})

describe('VersionedStore watchers', () => {
  it('stops a watch whose listener throws, keeps committing, and reports it as a warning', async () => {
    const warnings: string[] = []
    const store = await VersionedStore.open({ onWarning: (w) => warnings.push(w) })
    const seen: string[] = []
    store.watch('configmaps', {}, () => { throw new Error('listener broke') })
    store.watch('configmaps', {}, (ev) => seen.push(ev.object.metadata.name ?? ''))
    await store.create('configmaps', cm('a'))
    await store.create('configmaps', cm('b'))
    expect(seen).toEqual(['a', 'b'])
    expect(warnings).toEqual([expect.stringMatching(/watch on configmaps was stopped: its listener threw on ADDED default\/a: listener broke/)])
  })
})
