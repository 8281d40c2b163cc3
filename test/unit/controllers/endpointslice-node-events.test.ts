/** The EndpointSlice controller and Node events: a heartbeat is not a topology change. */
import { describe, expect, it } from 'vitest'
import { endpointSliceController, type ControllerClient } from '../../../src/controllers/index.js'
import { VersionedStore, type KubeObject, type StoreEvent } from '../../../src/store/index.js'

const node = (heartbeat: string, zone = 'a', ready = 'True'): KubeObject => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': zone } },
  status: { allocatable: { cpu: '4' }, conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: heartbeat }] },
})

describe('EndpointSlice controller on Node events', () => {
  it('reconciles every Service when a Node comes, goes or changes zone, readiness or CPU, not on a heartbeat', async () => {
    const store = await VersionedStore.open()
    await store.create('nodes', node('2026-12-06T00:00:00Z'))
    for (const name of ['web', 'db']) await store.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ports: [{ port: 80 }] } })
    const unused = async (): Promise<never> => { throw new Error('no writes here') }
    const client: ControllerClient = { create: unused, update: unused, updateStatus: unused, delete: unused }
    const def = endpointSliceController(store, client)
    expect([...def.initialKeys()].sort()).toEqual(['default/db', 'default/web'])
    const nodes = def.watches.find((w) => w.resource === 'nodes')!
    const ev = (type: StoreEvent['type'], object: KubeObject): StoreEvent => ({ type, resource: 'nodes', object, resourceVersion: 1 })
    expect(nodes.keysOf(ev('MODIFIED', node('2026-12-06T00:00:10Z')))).toEqual([])
    expect(nodes.keysOf(ev('MODIFIED', node('2026-12-06T00:00:20Z', 'b'))).length).toBe(2)
    expect(nodes.keysOf(ev('MODIFIED', node('2026-12-06T00:00:30Z', 'b')))).toEqual([])
    expect(nodes.keysOf(ev('MODIFIED', node('2026-12-06T00:00:40Z', 'b', 'False'))).length).toBe(2)
    expect(nodes.keysOf(ev('ADDED', { ...node('x'), metadata: { name: 'n2' } })).length).toBe(2)
    expect(nodes.keysOf(ev('DELETED', node('x'))).length).toBe(2)
    await store.close()
  })
})
