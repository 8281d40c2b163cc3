/**
 * The EndpointSlice controller reads its inputs from Indexers kept by store watches: over random
 * clusters and random writes after the first read, every Service derives the same slices, finds
 * the same managed slices and gets the same write plan as from a plain re-read of the store (the
 * lists it made before), and a pod event finds the same selecting Services.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { endpointSliceControllerName, labelsMatch, managedByLabel, serviceNameLabel, type EndpointSlice, type Node, type Pod, type Service } from '../../../src/api/index.js'
import { ControllerLoop, endpointSliceController } from '../../../src/controllers/index.js'
import { EndpointSliceInputs } from '../../../src/controllers/endpointslice-inputs.js'
import { desiredSlices, isManagedSliceOf, planSliceSync } from '../../../src/controllers/endpointslice-sync.js'
import { Indexer } from '../../../src/controllers/indexer.js'
import { VersionedStore, type KubeObject } from '../../../src/store/index.js'

const namespaces = ['default', 'team']
const names = ['a', 'b', 'c', 'd']
const labelKeys = ['app', 'tier']
const labelValues = ['x', 'y']
const zoneLabel = 'topology.kubernetes.io/zone'

const labels = fc.dictionary(fc.constantFrom(...labelKeys), fc.constantFrom(...labelValues), { maxKeys: 2 })
const ns = fc.constantFrom(...namespaces)
const name = fc.constantFrom(...names)

const service = fc.record({ ns, name, selector: fc.option(labels, { nil: undefined }), auto: fc.boolean(), external: fc.boolean() }).map((s): KubeObject => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: s.name, namespace: s.ns, ...(s.auto ? { annotations: { 'service.kubernetes.io/topology-mode': 'Auto' } } : {}) },
  spec: { ...(s.selector ? { selector: s.selector } : {}), ...(s.external ? { type: 'ExternalName', externalName: 'example.com' } : {}), ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
}))

const pod = fc.record({ ns, name: fc.constantFrom(...names, 'e', 'f'), labels, node: fc.option(fc.constantFrom('n1', 'n2', 'n3'), { nil: undefined }), ip: fc.integer({ min: 1, max: 250 }), ready: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)), phase: fc.constantFrom('Running', 'Pending', 'Succeeded') })
  .map((p): KubeObject => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${p.name}`, namespace: p.ns, labels: p.labels },
    spec: { ...(p.node ? { nodeName: p.node } : {}), containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080 }] }] },
    status: { phase: p.phase, podIP: `10.1.0.${p.ip}`, podIPs: [{ ip: `10.1.0.${p.ip}` }], conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False' }] },
  }))

const node = fc.record({ name: fc.constantFrom('n1', 'n2', 'n3', 'n4'), zone: fc.option(fc.constantFrom('z1', 'z2'), { nil: undefined, freq: 12 }), cpu: fc.constantFrom('1', '2', '16') })
  .map((n): KubeObject => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, ...(n.zone ? { labels: { [zoneLabel]: n.zone } } : {}) },
    status: { allocatable: { cpu: n.cpu }, conditions: [{ type: 'Ready', status: 'True' }] },
  }))

const slice = fc.record({ ns, svc: name, suffix: fc.constantFrom('1', '2'), managed: fc.boolean(), ip: fc.integer({ min: 1, max: 250 }) })
  .map((s): KubeObject => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${s.svc}-${s.suffix}`, namespace: s.ns, labels: { [serviceNameLabel]: s.svc, ...(s.managed ? { [managedByLabel]: endpointSliceControllerName } : {}) } },
    addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: [`10.2.0.${s.ip}`], conditions: { ready: true } }],
  }))

const resourceOf: Record<string, string> = { Service: 'services', Pod: 'pods', Node: 'nodes', EndpointSlice: 'endpointslices.discovery.k8s.io' }
const write = fc.oneof({ arbitrary: service, weight: 1 }, { arbitrary: pod, weight: 3 }, { arbitrary: node, weight: 2 }, { arbitrary: slice, weight: 1 }).chain((object) => fc.record({ object: fc.constant(object), remove: fc.oneof(fc.constant(false), fc.constant(false), fc.constant(true)) }))

/** Creates, replaces or deletes `object` in the store. */
async function apply(store: VersionedStore, object: KubeObject, remove: boolean): Promise<void> {
  const resource = resourceOf[object.kind!]!
  const key = { resource, namespace: object.metadata.namespace ?? '', name: object.metadata.name! }
  const live = store.get(key)
  if (remove) {
    if (live) await store.delete(key)
  } else if (live) await store.update(resource, { ...object, metadata: { ...object.metadata, resourceVersion: live.metadata.resourceVersion } })
  else await store.create(resource, object)
}

/** The inputs as the controller read them before: whole-namespace lists, filtered. */
function reread(store: VersionedStore, namespace: string, name: string) {
  const svc = store.get({ resource: 'services', namespace, name }) as Service | undefined
  const pods = store.list('pods', { namespace }).items as unknown as Pod[]
  const nodes = store.list('nodes').items as unknown as Node[]
  const existing = (store.list('endpointslices.discovery.k8s.io', { namespace }).items as unknown as EndpointSlice[]).filter((s) => isManagedSliceOf(s, name))
  return { svc, desired: desiredSlices(svc, pods, nodes), existing }
}

function compare(store: VersionedStore, inputs: EndpointSliceInputs): void {
  for (const namespace of namespaces) {
    for (const name of names) {
      const plain = reread(store, namespace, name)
      const pods = inputs.candidatePods(namespace, plain.svc?.spec.selector)
      const desired = desiredSlices(plain.svc, pods, inputs.nodesFor(plain.svc, pods))
      const existing = inputs.managedSlices(namespace, name)
      expect(desired, `${namespace}/${name}: desired slices`).toEqual(plain.desired)
      expect(existing, `${namespace}/${name}: managed slices`).toEqual(plain.existing)
      expect(planSliceSync(desired, existing)).toEqual(planSliceSync(plain.desired, plain.existing))
    }
    const selecting = (store.list('services', { namespace }).items as unknown as Service[]).filter((s) => Object.keys(s.spec.selector ?? {}).length > 0)
    expect(inputs.selectingServices(namespace)).toEqual(selecting)
    for (const p of store.list('pods', { namespace }).items) {
      expect(selecting.filter((s) => labelsMatch(s.spec.selector!, p.metadata.labels)).length)
        .toBe(inputs.selectingServices(namespace).filter((s) => labelsMatch(s.spec.selector!, p.metadata.labels)).length)
    }
  }
}

describe('EndpointSlice controller inputs from Indexers', () => {
  it('equal a plain re-read of the store before and after random writes', async () => {
    await fc.assert(fc.asyncProperty(fc.array(write, { maxLength: 40 }), fc.array(write, { maxLength: 30 }), async (before, after) => {
      const store = await VersionedStore.open()
      try {
        for (const w of before) await apply(store, w.object, w.remove)
        const inputs = new EndpointSliceInputs(store)
        compare(store, inputs)
        // Now the Indexers follow the store's watch events.
        for (const w of after) await apply(store, w.object, w.remove)
        compare(store, inputs)
        inputs.stop()
      } finally {
        await store.close()
      }
    }), { seed: 29, numRuns: 150, interruptAfterTimeLimit: 20_000 })
  })

  it('a reconcile lists nothing once the Indexers are open: its cost does not grow with the namespace', async () => {
    const store = await VersionedStore.open()
    for (let i = 0; i < 200; i++) {
      await store.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: `bg-${i}`, namespace: 'default' }, spec: { ports: [{ port: 80 }] } })
      await store.create('endpointslices.discovery.k8s.io', {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `bg-${i}-1`, namespace: 'default', labels: { [serviceNameLabel]: `bg-${i}` } },
        addressType: 'IPv4', endpoints: [{ addresses: [`10.2.${i >> 8}.${i & 255}`] }],
      })
    }
    for (const name of ['web', 'web2']) await store.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ports: [{ port: 80 }] } })
    const written: string[] = []
    const client = { create: async (_: unknown, o: KubeObject) => { written.push(`${o.kind} of ${o.metadata.labels?.[serviceNameLabel] ?? o.metadata.name}`); return o } }
    const def = endpointSliceController(store, client as never)
    await def.reconcile('default/web2') // opens the Indexers
    written.length = 0
    const list = store.list.bind(store)
    const listed: string[] = []
    store.list = (resource, opts) => { listed.push(resource); return list(resource, opts) }
    for (let i = 1; i < 200; i++) await def.reconcile(`default/bg-${i}`)
    await def.reconcile('default/web')
    expect(listed).toEqual([])
    expect(written.sort()).toEqual(['EndpointSlice of web', 'Endpoints of web'])
    def.stop?.()
    await store.close()
  })

  it('Auto hints weigh every Node, also those hosting no endpoint', async () => {
    const store = await VersionedStore.open()
    const n = (name: string, zone: string, cpu: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { [zoneLabel]: zone } }, status: { allocatable: { cpu } } })
    const p = (name: string, nodeName: string, ip: string): KubeObject => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'x' } },
      spec: { nodeName, containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
    })
    for (const o of [n('n1', 'z1', '1'), n('n2', 'z2', '1'), n('n4', 'z2', '16')]) await store.create('nodes', o)
    for (const o of [p('p1', 'n1', '10.1.0.1'), p('p2', 'n2', '10.1.0.2')]) await store.create('pods', o)
    await store.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'default', annotations: { 'service.kubernetes.io/topology-mode': 'Auto' } }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } })
    const inputs = new EndpointSliceInputs(store)
    compare(store, inputs)
    // n4's CPU makes z2's share too large for two endpoints: no hints, which the pods' Nodes alone would not say.
    const pods = inputs.candidatePods('default', { app: 'x' })
    expect(inputs.nodesFor(reread(store, 'default', 'a').svc, pods).map((x) => x.metadata.name)).toEqual(['n1', 'n2', 'n4'])
    expect(reread(store, 'default', 'a').desired.flatMap((s) => s.endpoints.map((e) => e.hints))).toEqual([undefined, undefined])
    inputs.stop()
    await store.close()
  })

  it('the controller loop stops the definition, which stops its Indexers\' watches', async () => {
    const store = await VersionedStore.open()
    // count the store's open watches
    const watch = store.watch.bind(store)
    let open = 0
    store.watch = (resource, opts, fn) => {
      open++
      const h = watch(resource, opts, fn)
      return { stop: () => { open--; h.stop() } }
    }
    const def = endpointSliceController(store, undefined as never)
    def.watches.find((w) => w.resource === 'pods')!.keysOf({ type: 'ADDED', resource: 'pods', object: { metadata: { name: 'p', namespace: 'default' } }, resourceVersion: 1 })
    expect(open).toBe(1)
    const loop = new ControllerLoop(store, def)
    loop.start()
    expect(open).toBe(5)
    loop.stop()
    expect(open).toBe(0)
    await store.close()
  })

  it('an Indexer whose index function throws on an event lists again on the next read, instead of going stale', async () => {
    const store = await VersionedStore.open()
    const byApp = new Indexer(store, 'pods', (p) => {
      if (p.metadata.name === 'bad') throw new TypeError('unreadable')
      return [p.metadata.labels?.['app'] ?? '']
    })
    const p = (name: string, app: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } }, spec: {} })
    await store.create('pods', p('a', 'web'))
    expect(byApp.count('web')).toBe(1)
    await store.create('pods', p('bad', 'web'))
    expect(() => byApp.byIndex('web')).toThrow('unreadable')
    await store.delete({ resource: 'pods', namespace: 'default', name: 'bad' })
    await store.create('pods', p('b', 'web'))
    expect(byApp.byIndex('web').map((o) => o.metadata.name)).toEqual(['a', 'b'])
    byApp.stop()
    await store.close()
  })

  it('an Indexer files an object under its new values when a write changes them, and forgets it once deleted', async () => {
    const store = await VersionedStore.open()
    const byApp = new Indexer(store, 'pods', (p) => (p.metadata.labels?.['app'] ? [p.metadata.labels['app']] : []))
    const p = (app: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', labels: { app } }, spec: {} })
    await store.create('pods', p('web'))
    expect(byApp.byIndex('web').map((o) => o.metadata.name)).toEqual(['p'])
    await store.update('pods', { ...p('db'), metadata: { ...p('db').metadata, resourceVersion: store.get({ resource: 'pods', namespace: 'default', name: 'p' })!.metadata.resourceVersion } })
    expect([byApp.byIndex('web').length, byApp.byIndex('db').length]).toEqual([0, 1])
    await store.delete({ resource: 'pods', namespace: 'default', name: 'p' })
    expect(byApp.byIndex('db')).toEqual([])
    byApp.stop()
    await store.create('pods', p('web'))
    // stopped: a read lists again
    expect(byApp.byIndex('web').length).toBe(1)
    byApp.stop()
    await store.close()
  })
})
