/**
 * A Pod event concerns the Services that selected the Pod before it or select it after (upstream's
 * getPodServiceMemberships), not every Service in the namespace: at 100,000 pods in one namespace
 * every pod write re-derived every Service's slices.
 */
import { describe, expect, it } from 'vitest'
import { endpointSliceController } from '../../../src/controllers/index.js'
import { VersionedStore, type KubeObject, type StoreEvent } from '../../../src/store/index.js'

const service = (name: string, selector?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ...(selector ? { selector } : {}), ports: [{ port: 80 }] } })
const pod = (labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', labels }, spec: { containers: [] } })

describe('EndpointSlice controller: pod events', () => {
  it('enqueue only the Services whose selector matched the old or matches the new labels', async () => {
    const store = await VersionedStore.open()
    for (const s of [service('svc-a', { app: 'a' }), service('svc-b', { app: 'b' }), service('no-selector'), service('svc-ab', { tier: 'x' })]) await store.create('services', s)
    const def = endpointSliceController(store, undefined as never)
    const pods = def.watches.find((w) => w.resource === 'pods')!
    const ev = (type: StoreEvent['type'], object: KubeObject): StoreEvent => ({ type, resource: 'pods', object, resourceVersion: 1 })
    expect(pods.keysOf(ev('ADDED', pod({ app: 'a' })))).toEqual(['default/svc-a'])
    expect(pods.keysOf(ev('MODIFIED', pod({ app: 'a' })))).toEqual(['default/svc-a'])
    expect(pods.keysOf(ev('MODIFIED', pod({ app: 'b', tier: 'x' })))).toEqual(['default/svc-a', 'default/svc-ab', 'default/svc-b'])
    expect(pods.keysOf(ev('DELETED', pod({ app: 'b', tier: 'x' })))).toEqual(['default/svc-ab', 'default/svc-b'])
    expect(pods.keysOf(ev('ADDED', pod({ other: 'y' })))).toEqual([])
    await store.close()
  })
})
