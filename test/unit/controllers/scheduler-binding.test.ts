/**
 * kpe's scheduler binds through pods/binding: one store write per Pod (nodeName and
 * PodScheduled=True together, where it used to be an update then a status update), the Pod's
 * uid as the Binding's precondition, and its Scheduled Event kept.
 */
import { describe, expect, it } from 'vitest'
import type { Binding, Pod } from '../../../src/api/index.js'
import { LocalApiClient, randomIds } from '../../../src/apiserver/index.js'
import { schedulerController, type ControllerClient, type PodBinder } from '../../../src/controllers/index.js'
import { VersionedStore, type KubeObject } from '../../../src/store/index.js'

const clock = { now: () => Date.parse('2026-12-06T00:00:00Z') }

/** The client's writes, with bind replaced by `bind`. */
function withBind(client: LocalApiClient, bind: (ns: string, b: Binding) => Promise<KubeObject>): ControllerClient & PodBinder {
  return {
    create: (i, o) => client.create(i, o), update: (i, o) => client.update(i, o), updateStatus: (i, o) => client.updateStatus(i, o),
    delete: (i, ns, n, o) => client.delete(i, ns, n, o), bind,
  }
}

describe('the scheduler binds with one write', () => {
  it('a pending Pod gets nodeName and PodScheduled=True in one store write, with the Scheduled Event', async () => {
    const store = await VersionedStore.open()
    await store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } })
    await store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'uid-p' }, spec: { containers: [{ name: 'c', image: 'i' }] } })
    const client = new LocalApiClient({ store, clock, ids: randomIds, admissionHooks: [] })
    const bindings: Binding[] = []
    const events: string[] = []
    const spy = withBind(client, (ns, b) => { bindings.push(b); return client.bind(ns, b) })
    const def = schedulerController(store, spy, clock, { recordEvent: (o, reason, note) => { events.push(`${reason} ${(o as KubeObject).metadata.name ?? ''}: ${note}`) } })
    const before = store.resourceVersion
    await def.reconcile('default/p')
    expect(store.resourceVersion - before).toBe(1)
    const pod = store.get({ resource: 'pods', namespace: 'default', name: 'p' }) as Pod
    expect(pod.spec.nodeName).toBe('n1')
    expect(pod.status?.conditions).toEqual([{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-12-06T00:00:00Z' }])
    expect(bindings).toEqual([{ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', namespace: 'default', uid: 'uid-p' }, target: { kind: 'Node', name: 'n1' } }])
    expect(events).toEqual(['Scheduled p: Successfully assigned default/p to n1'])
    await store.close()
  })

  it('a refused Binding records no Scheduled Event and fails the reconcile, so the loop retries it', async () => {
    const store = await VersionedStore.open()
    await store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } })
    await store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'uid-p' }, spec: { containers: [{ name: 'c', image: 'i' }] } })
    const client = new LocalApiClient({ store, clock, ids: randomIds, admissionHooks: [] })
    // the Pod is deleted and made again under its name after the scheduler read it: the uid no longer matches
    const spy = withBind(client, (ns, b) => client.bind(ns, { ...b, metadata: { ...b.metadata, uid: 'uid-of-the-old-pod' } }))
    const events: string[] = []
    const def = schedulerController(store, spy, clock, { recordEvent: (_o, reason) => { events.push(reason) } })
    await expect(def.reconcile('default/p')).rejects.toMatchObject({ code: 409 })
    expect((store.get({ resource: 'pods', namespace: 'default', name: 'p' }) as Pod).spec.nodeName).toBeUndefined()
    expect(events).toEqual([])
    await store.close()
  })

  it('the in-process client checks a Binding as the HTTP path does', async () => {
    const store = await VersionedStore.open()
    await store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'uid-p' }, spec: { containers: [{ name: 'c', image: 'i' }] } })
    const client = new LocalApiClient({ store, clock, ids: randomIds, admissionHooks: [] })
    await expect(client.bind('default', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'Not_A_Node' } }))
      .rejects.toMatchObject({ code: 422, details: { causes: [{ field: 'target.name' }] } })
    expect((store.get({ resource: 'pods', namespace: 'default', name: 'p' }) as Pod).spec.nodeName).toBeUndefined()
    await store.close()
  })
})
