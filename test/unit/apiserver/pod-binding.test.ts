/**
 * pods/NAME/binding and the deprecated namespaces/NS/bindings over HTTP, on the memory store and
 * on a real etcd: one write binds (nodeName, annotations, PodScheduled=True), refusals are the
 * Conflicts kube-apiserver's BindingREST answers, bodies are checked at the door (JSON and protobuf).
 */
import { describe, expect, it } from 'vitest'
import { decodeProtobufObject, encodeProtobufObject } from '../../../src/api/index.js'
import { EtcdStore, openMemoryStore, type ObjectStore } from '../../../src/store/index.js'
import { randomIds } from '../../../src/apiserver/index.js'
import { bindPod } from '../../../src/apiserver/pod-binding.js'
import { apiServerPerTest, callJson as call } from '../../helpers/api-server.js'
import { etcdForFile } from '../../helpers/etcd-process.js'

interface PodView {
  metadata: { name: string; uid: string; resourceVersion: string; annotations?: Record<string, string>; deletionTimestamp?: string }
  spec: { nodeName?: string }
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; lastProbeTime?: unknown }[] }
}

const protobuf = 'application/vnd.kubernetes.protobuf'
const success = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }
const binding = (name: string, node: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ apiVersion: 'v1', kind: 'Binding', metadata: { name, ...extra }, target: { kind: 'Node', name: node } })

function describeBinding(storeName: string, openStore: () => Promise<ObjectStore>): void {
  describe(`pods/binding on the ${storeName} store`, () => {
    const api = apiServerPerTest(openStore)
    const start = async (): Promise<string> => `${await api.start()}/api/v1/namespaces/default`
    async function pod(base: string, name: string, extra: { spec?: Record<string, unknown>; metadata?: Record<string, unknown> } = {}): Promise<PodView> {
      const r = await call(`${base}/pods`, 'POST', { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...extra.metadata }, spec: { containers: [{ name: 'c', image: 'i' }], ...extra.spec } })
      expect(r.status).toBe(201)
      return r.json as unknown as PodView
    }
    const get = async (base: string, name: string): Promise<PodView> => (await call(`${base}/pods/${name}`, 'GET')).json as unknown as PodView

    it('binds in one write: nodeName, the Binding\'s annotations, PodScheduled=True; answers a Success Status', async () => {
      const base = await start()
      const before = await pod(base, 'p', { metadata: { annotations: { keep: 'me' } }, spec: { schedulerName: 'other' } })
      const r = await call(`${base}/pods/p/binding`, 'POST', binding('p', 'node-a', { annotations: { 'example.com/by': 'test' } }))
      expect(r).toEqual({ status: 201, json: success })
      const after = await get(base, 'p')
      expect(after.spec.nodeName).toBe('node-a')
      expect(after.metadata.annotations).toEqual({ keep: 'me', 'example.com/by': 'test' })
      expect(after.status?.conditions).toEqual([{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) }])
      // one store write: the store's revision moved by exactly one
      expect(Number(after.metadata.resourceVersion) - Number(before.metadata.resourceVersion)).toBe(1)
    })

    it('replaces an Unschedulable PodScheduled condition in place', async () => {
      const base = await start()
      await pod(base, 'p')
      const unschedulable = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'no nodes', lastTransitionTime: '2026-01-01T00:00:00Z', lastProbeTime: null }
      const ready = { type: 'Ready', status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }
      expect((await call(`${base}/pods/p/status`, 'PATCH', { status: { conditions: [unschedulable, ready] } }, 'application/merge-patch+json')).status).toBe(200)
      expect((await call(`${base}/pods/p/binding`, 'POST', binding('p', 'node-a'))).status).toBe(201)
      const [scheduled, second] = (await get(base, 'p')).status?.conditions ?? []
      expect(scheduled).toMatchObject({ type: 'PodScheduled', status: 'True' })
      expect(scheduled).not.toHaveProperty('reason')
      expect(scheduled?.lastTransitionTime).not.toBe('2026-01-01T00:00:00Z')
      expect(second).toMatchObject(ready)
    })

    it('refuses a pod bound already, being deleted, or gated, as Conflicts on pods/binding; nothing changes', async () => {
      const base = await start()
      await pod(base, 'p')
      expect((await call(`${base}/pods/p/binding`, 'POST', binding('p', 'node-a'))).status).toBe(201)
      expect(await call(`${base}/pods/p/binding`, 'POST', binding('p', 'node-b'))).toEqual({ status: 409, json: {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Conflict', code: 409,
        message: 'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "node-a"',
        details: { name: 'p', group: '', kind: 'pods/binding' },
      } })
      expect((await get(base, 'p')).spec.nodeName).toBe('node-a')

      await pod(base, 'going', { metadata: { finalizers: ['example.com/hold'] } })
      expect((await call(`${base}/pods/going`, 'DELETE')).status).toBe(200)
      expect(await call(`${base}/pods/going/binding`, 'POST', binding('going', 'node-a'))).toMatchObject({ status: 409, json: {
        reason: 'Conflict', message: 'Operation cannot be fulfilled on pods/binding "going": pod going is being deleted, cannot be assigned to a host',
      } })

      await pod(base, 'gated', { spec: { schedulingGates: [{ name: 'example.com/wait' }] } })
      expect(await call(`${base}/pods/gated/binding`, 'POST', binding('gated', 'node-a'))).toMatchObject({ status: 409, json: {
        message: 'Operation cannot be fulfilled on pods/binding "gated": pod gated has non-empty .spec.schedulingGates',
      } })
      expect((await get(base, 'gated')).spec.nodeName).toBeUndefined()
    })

    it('checks the Binding\'s uid and resourceVersion as preconditions on the pod', async () => {
      const base = await start()
      const p = await pod(base, 'p')
      expect(await call(`${base}/pods/p/binding`, 'POST', binding('p', 'node-a', { uid: 'not-the-uid' }))).toMatchObject({ status: 409, json: {
        reason: 'Conflict', details: { name: 'p', kind: 'pods' },
        message: `Operation cannot be fulfilled on pods "p": Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${p.metadata.uid}`,
      } })
      expect(await call(`${base}/pods/p/binding`, 'POST', binding('p', 'node-a', { resourceVersion: '1' }))).toMatchObject({ status: 409, json: {
        message: `Operation cannot be fulfilled on pods "p": Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ${p.metadata.resourceVersion}`,
      } })
      expect((await get(base, 'p')).spec.nodeName).toBeUndefined()
      expect((await call(`${base}/pods/p/binding`, 'POST', binding('p', 'node-a', { uid: p.metadata.uid, resourceVersion: p.metadata.resourceVersion }))).status).toBe(201)
    })

    it('answers 404 for an unknown pod, 400 for a wrong kind or name, 422 naming the field for an invalid Binding', async () => {
      const base = await start()
      await pod(base, 'p')
      expect(await call(`${base}/pods/nope/binding`, 'POST', binding('nope', 'node-a'))).toMatchObject({ status: 404, json: { reason: 'NotFound', message: 'pods "nope" not found' } })
      expect(await call(`${base}/pods/p/binding`, 'POST', binding('q', 'node-a'))).toMatchObject({ status: 400, json: { message: 'name in URL does not match name in Binding object' } })
      expect(await call(`${base}/pods/p/binding`, 'POST', { ...binding('p', 'node-a'), kind: 'Pod' })).toMatchObject({ status: 400, json: { reason: 'BadRequest' } })
      const noTarget = await call(`${base}/pods/p/binding`, 'POST', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' } })
      expect(noTarget).toMatchObject({ status: 422, json: { reason: 'Invalid', message: 'Binding "p" is invalid: target.name: Required value', details: { kind: 'Binding', causes: [{ field: 'target.name', reason: 'FieldValueRequired' }] } } })
      const service = await call(`${base}/pods/p/binding`, 'POST', { ...binding('p', 'node-a'), target: { kind: 'Service', name: 'web' } })
      expect(service).toMatchObject({ status: 422, json: { details: { causes: [{ field: 'target.kind', message: 'Unsupported value: "Service": supported values: "Node", "<empty>"' }] } } })
      expect(await call(`${base}/pods/p/binding`, 'POST', { ...binding('p', 'Not_A_Node') })).toMatchObject({ status: 422, json: { details: { causes: [{ field: 'target.name' }] } } })
      expect(await call(`${base}/pods/p/binding`, 'POST', { ...binding('p', 'node-a'), target: { name: 7 } })).toMatchObject({ status: 400, json: { reason: 'BadRequest' } })
      expect(await call(`${base}/pods/p/binding`, 'POST', binding('p', 'node-a', { annotations: { 'bad key!': 'x' } }))).toMatchObject({ status: 422, json: { details: { causes: [{ field: 'metadata.annotations' }] } } })
      expect(await call(`${base}/pods/p/binding?fieldValidation=Strict`, 'POST', { ...binding('p', 'node-a'), extra: 1 })).toMatchObject({ status: 400, json: { message: expect.stringContaining('unknown field "extra"') } })
      expect(await call(`${base}/pods/p/binding`, 'GET')).toMatchObject({ status: 405, json: { reason: 'MethodNotAllowed', details: { kind: 'pods/binding' } } })
      expect((await get(base, 'p')).spec.nodeName).toBeUndefined()
    })

    it('binds through the deprecated bindings resource, with the pod named in the Binding', async () => {
      const base = await start()
      await pod(base, 'p')
      expect(await call(`${base}/bindings`, 'POST', binding('p', 'node-a'))).toEqual({ status: 201, json: success })
      expect((await get(base, 'p')).spec.nodeName).toBe('node-a')
      expect(await call(`${base}/bindings`, 'POST', { apiVersion: 'v1', kind: 'Binding', metadata: {}, target: { name: 'node-a' } }))
        .toMatchObject({ status: 422, json: { details: { causes: [{ field: 'metadata.name' }] } } })
      expect((await call(`${base}/bindings`, 'GET')).status).toBe(405)
    })

    it('takes a protobuf Binding and answers protobuf to a client that asks for it; dryRun binds nothing', async () => {
      const base = await start()
      await pod(base, 'p')
      const body = encodeProtobufObject(binding('p', 'node-a'))
      expect(body).toBeDefined()
      const res = await fetch(`${base}/pods/p/binding?dryRun=All`, { method: 'POST', headers: { 'Content-Type': protobuf, Accept: `${protobuf}, application/json` }, body: body! })
      expect(res.status).toBe(201)
      expect((await get(base, 'p')).spec.nodeName).toBeUndefined()
      const real = await fetch(`${base}/pods/p/binding`, { method: 'POST', headers: { 'Content-Type': protobuf, Accept: `${protobuf}, application/json` }, body: body! })
      expect(real.status).toBe(201)
      expect(real.headers.get('content-type')).toBe(protobuf)
      expect(decodeProtobufObject(Buffer.from(await real.arrayBuffer()))).toMatchObject({ kind: 'Status', status: 'Success', code: 201 })
      expect((await get(base, 'p')).spec.nodeName).toBe('node-a')
    })

    it('discovery lists pods/binding and bindings, create only', async () => {
      const base = await start()
      const list = (await call(base.replace(/\/namespaces\/default$/, ''), 'GET')).json as { resources: Record<string, unknown>[] }
      expect(list.resources.find((r) => r['name'] === 'pods/binding')).toEqual({ name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] })
      expect(list.resources.find((r) => r['name'] === 'bindings')).toEqual({ name: 'bindings', singularName: 'binding', namespaced: true, kind: 'Binding', verbs: ['create'] })
    })
  })
}

describeBinding('memory', () => openMemoryStore())

const etcd = etcdForFile('pods/binding on etcd')
if (etcd) {
  let n = 0
  describeBinding('etcd', () => EtcdStore.open({ endpoints: etcd.endpoints, prefix: `/binding-${process.pid}-${n++}`, compactionIntervalMs: 0 }))
}

describe('pods/binding under a racing write (GuaranteedUpdate)', () => {
  it('a label written between the binding\'s read and its update is kept, and the binding is retried, not refused', async () => {
    const store = await openMemoryStore()
    const key = { resource: 'pods', namespace: 'default', name: 'p' }
    await store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: { containers: [{ name: 'c', image: 'i' }] } })
    let raced = 0
    // the first binding update finds the pod changed under it: another client labelled it
    const racing = new Proxy(store, {
      get(target, prop) {
        if (prop === 'transact') {
          return async (ops: Parameters<ObjectStore['transact']>[0]) => {
            if (raced++ === 0) {
              const now = target.get(key)!
              await target.update('pods', { ...now, metadata: { ...now.metadata, labels: { racer: 'won' } } })
            }
            return target.transact(ops)
          }
        }
        const v = Reflect.get(target, prop, target) as unknown
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      },
    })
    const deps = { store: racing, clock: { now: () => Date.parse('2026-12-06T00:00:00Z') }, ids: randomIds, hooks: [] }
    const bound = await bindPod(deps, 'default', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', uid: 'u' }, target: { name: 'node-a' } }, new URLSearchParams())
    expect(raced).toBe(2)
    expect(bound.spec.nodeName).toBe('node-a')
    expect(store.get(key)?.metadata.labels).toEqual({ racer: 'won' })
    expect(store.get(key)?.['spec']).toMatchObject({ nodeName: 'node-a' })
    await store.close()
  })
})
