/**
 * endpoints.kubernetes.io/last-change-trigger-time: the tracker's rule (upstream's
 * TriggerTimeTracker: a new Service's creation, else the earliest pod Ready flip since the last
 * reconcile), the annotation's format, and the EndpointSlice controller writing it through the API.
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { formatTriggerTime, lastChangeTriggerTimeAnnotation, sliceTriggerTime, type EndpointSlice, type Pod, type Service } from '../../../src/api/index.js'
import { ApiServer, LocalApiClient, randomIds } from '../../../src/apiserver/index.js'
import { endpointSliceController, resources } from '../../../src/controllers/index.js'
import { TriggerTimeTracker, withTriggerTime } from '../../../src/controllers/index.js'
import { openMemoryStore, type KubeObject, type VersionedStore } from '../../../src/store/index.js'

const t0 = Date.parse('2026-01-01T00:00:00Z')
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z')

const service = (created = t0): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', creationTimestamp: iso(created) },
  spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
}) as Service

function pod(name: string, readySince: number | undefined, labels: Record<string, string> = { app: 'web' }): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'x' }] },
    status: { phase: 'Running', conditions: readySince === undefined ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: iso(readySince) }] },
  } as Pod
}

describe('TriggerTimeTracker', () => {
  it('a Service seen for the first time is timed from its creation, whatever its pods', () => {
    const tracker = new TriggerTimeTracker()
    expect(tracker.compute('default/web', service(), [pod('a', t0 + 5_000)])).toBe(t0)
  })

  it('nothing changed since the last reconcile: no trigger time', () => {
    const tracker = new TriggerTimeTracker()
    tracker.compute('default/web', service(), [pod('a', t0 + 5_000)])
    expect(tracker.compute('default/web', service(), [pod('a', t0 + 5_000)])).toBeUndefined()
  })

  it('the earliest Ready flip among the pods that changed since the last reconcile', () => {
    const tracker = new TriggerTimeTracker()
    tracker.compute('default/web', service(), [pod('a', t0 + 1_000), pod('b', t0 + 2_000)])
    expect(tracker.compute('default/web', service(), [pod('a', t0 + 1_000), pod('b', t0 + 9_000), pod('c', t0 + 7_000)])).toBe(t0 + 7_000)
    expect(tracker.compute('default/web', service(), [pod('a', t0 + 11_000), pod('b', t0 + 9_000), pod('c', t0 + 7_000)])).toBe(t0 + 11_000)
  })

  it('pods the selector does not match and pods without a Ready condition do not count', () => {
    const tracker = new TriggerTimeTracker()
    tracker.compute('default/web', service(), [])
    expect(tracker.compute('default/web', service(), [pod('other', t0 + 3_000, { app: 'db' }), pod('starting', undefined)])).toBeUndefined()
  })

  it('a deleted and recreated Service is timed from its new creation', () => {
    const tracker = new TriggerTimeTracker()
    tracker.compute('default/web', service(), [pod('a', t0 + 1_000)])
    tracker.deleteService('default/web')
    expect(tracker.compute('default/web', service(t0 + 60_000), [pod('a', t0 + 1_000)])).toBe(t0 + 60_000)
  })

  it('property: after the first reconcile, the earliest of the Ready times that moved forward, else none', () => {
    const times = fc.array(fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }), { minLength: 3, maxLength: 3 })
    fc.assert(fc.property(fc.array(times, { minLength: 2, maxLength: 6 }), (rounds) => {
      const tracker = new TriggerTimeTracker()
      const pods = (r: readonly (number | undefined)[]): Pod[] => r.map((s, i) => pod(`p${i}`, s === undefined ? undefined : t0 + s * 1000))
      tracker.compute('default/web', service(), pods(rounds[0]!))
      for (let i = 1; i < rounds.length; i++) {
        const moved = rounds[i]!.flatMap((s, p) => (s !== undefined && (rounds[i - 1]![p] === undefined || s > rounds[i - 1]![p]!) ? [t0 + s * 1000] : []))
        expect(tracker.compute('default/web', service(), pods(rounds[i]!))).toBe(moved.length ? Math.min(...moved) : undefined)
      }
    }), { seed: 17, numRuns: 200 })
  })
})

describe('the annotation', () => {
  const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abc', namespace: 'default', annotations: { keep: 'me' } }, addressType: 'IPv4', endpoints: [] } as unknown as EndpointSlice

  it('is RFC 3339 in UTC with the fraction trimmed, as Go writes RFC3339Nano', () => {
    expect(formatTriggerTime(t0)).toBe('2026-01-01T00:00:00Z')
    expect(formatTriggerTime(t0 + 1_500)).toBe('2026-01-01T00:00:01.5Z')
    expect(formatTriggerTime(t0 + 1_123)).toBe('2026-01-01T00:00:01.123Z')
    for (const ms of [t0, t0 + 1_500, t0 + 1_123]) expect(sliceTriggerTime(withTriggerTime(slice, ms))).toBe(ms)
    expect(sliceTriggerTime({ ...slice, metadata: { annotations: { [lastChangeTriggerTimeAnnotation]: 'yesterday' } } })).toBeUndefined()
  })

  it('is set beside the other annotations, and removed when there is no trigger time', () => {
    const set = withTriggerTime(slice, t0)
    expect(set.metadata.annotations).toEqual({ keep: 'me', [lastChangeTriggerTimeAnnotation]: '2026-01-01T00:00:00Z' })
    expect(withTriggerTime(set, undefined).metadata.annotations).toEqual({ keep: 'me' })
    const bare = { ...slice, metadata: { name: 'web-abc', annotations: { [lastChangeTriggerTimeAnnotation]: 'x' } } }
    expect(withTriggerTime(bare, undefined).metadata).toEqual({ name: 'web-abc' })
  })
})

describe('EndpointSlice controller writes the trigger time', () => {
  let server: ApiServer | undefined
  let store: VersionedStore | undefined
  afterEach(async () => {
    await server?.close()
    await store?.close()
  })

  it('on the slice it creates (the Service creation), on an update (the pod Ready flip), and nothing when nothing changed', async () => {
    const clock = { now: () => t0 + 30_000 }
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0, clock, admissionHooks: [] })
    const client = new LocalApiClient({ store, clock, ids: randomIds, admissionHooks: server.admissionHooks, catalogue: server.catalogue, afterDelete: server.garbageCollector.deps.afterDelete })
    const controller = endpointSliceController(store, client)
    const svc = await client.create(resources.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
    const slices = (): EndpointSlice[] => store!.list('endpointslices.discovery.k8s.io', { namespace: 'default' }).items as unknown as EndpointSlice[]
    await controller.reconcile('default/web')
    expect(slices().map((s) => s.metadata.annotations?.[lastChangeTriggerTimeAnnotation])).toEqual([svc.metadata.creationTimestamp])

    const created = await client.create(resources.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default', labels: { app: 'web' } }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'x' }] } })
    const readyAt = '2026-01-01T00:00:20Z'
    await client.updateStatus(resources.pods, { ...created, status: { phase: 'Running', podIP: '10.244.0.5', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: readyAt }] } } as KubeObject)
    await controller.reconcile('default/web')
    const [updated] = slices()
    expect(updated!.endpoints.map((e) => e.addresses[0])).toEqual(['10.244.0.5'])
    expect(updated!.metadata.annotations?.[lastChangeTriggerTimeAnnotation]).toBe(readyAt)

    const rv = updated!.metadata.resourceVersion
    await controller.reconcile('default/web')
    expect(slices()[0]!.metadata.resourceVersion).toBe(rv)
  })
})
