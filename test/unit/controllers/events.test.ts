/**
 * The event recorder: the pure series/spam/TTL rules, and the broadcaster against a real control
 * plane: repeats become one Event's series, both APIs (core/v1 and events.k8s.io/v1) serve the
 * same objects with their own field names and field selectors, and controllers record events.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { startControlPlane, type ControlPlane } from '../../../src/cluster/index.js'
import {
  EventBroadcaster, EventExpiry, expiredEvents, maxNoteBytes, microTime, newEvent, resources, seriesKey, spamBurst, spamFilterEntries, spamRefillMs, SpamFilter, withRepeat,
  type EventSource, type Occurrence,
} from '../../../src/controllers/index.js'
import type { KubeObject } from '../../../src/store/index.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function controlPlane(extra: Partial<Parameters<typeof startControlPlane>[0]> = {}): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'kpe-events-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const cp = await startControlPlane({ dataDir: dir, port: 0, ...extra })
  cleanups.push(() => cp.stop())
  return cp
}

const source: EventSource = { controller: 'kubelet', instance: 'node-1', host: 'node-1' }
const occurrence: Occurrence = { regarding: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1' }, reason: 'Started', note: 'Started container web', type: 'Normal', action: 'Started' }
const t0 = Date.parse('2026-01-02T03:04:05.678Z')

describe('event values', () => {
  it('builds an events.k8s.io/v1 Event with microsecond time, hex-nanosecond name and the reporter', () => {
    const e = newEvent(occurrence, source, t0, 7)
    expect(e).toMatchObject({
      apiVersion: 'events.k8s.io/v1', kind: 'Event', eventTime: '2026-01-02T03:04:05.678000Z',
      metadata: { namespace: 'default', name: `web.${(BigInt(t0) * 1_000_000n + 7n).toString(16)}` },
      reportingController: 'kubelet', reportingInstance: 'node-1', deprecatedSource: { component: 'kubelet', host: 'node-1' },
      regarding: occurrence.regarding, reason: 'Started', note: 'Started container web', type: 'Normal', action: 'Started',
    })
    expect(e.series).toBeUndefined()
  })

  it('puts events of cluster-scoped objects in the default namespace', () => {
    expect(newEvent({ ...occurrence, regarding: { kind: 'Node', name: 'n1' } }, source, t0, 0).metadata.namespace).toBe('default')
  })

  it('counts repeats as a series starting at 2', () => {
    const e = withRepeat(withRepeat(newEvent(occurrence, source, t0, 0), t0 + 1000), t0 + 2000)
    expect(e.series).toEqual({ count: 3, lastObservedTime: microTime(t0 + 2000) })
  })

  it('keys a series by object, reason, note, type, action and reporter', () => {
    const k = seriesKey(occurrence, source)
    expect(seriesKey({ ...occurrence }, { ...source })).toBe(k)
    expect(seriesKey({ ...occurrence, note: 'other' }, source)).not.toBe(k)
    expect(seriesKey({ ...occurrence, regarding: { ...occurrence.regarding, uid: 'u2' } }, source)).not.toBe(k)
    expect(seriesKey(occurrence, { ...source, instance: 'node-2' })).not.toBe(k)
  })

  it('cuts any note to at most 1024 bytes, keeping a prefix', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 1500 }), (note) => {
      const out = newEvent({ ...occurrence, note }, source, t0, 0).note
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(maxNoteBytes)
      if (Buffer.byteLength(note) <= maxNoteBytes) expect(out).toBe(note)
      else expect(note.startsWith(out.slice(0, -3).replace(/\uFFFD$/, ''))).toBe(true)
    }), { seed: 13, numRuns: 100 })
  })

  it('rate-limits per object with a bucket of 25 refilled every 5 minutes', () => {
    const f = new SpamFilter()
    for (let i = 0; i < spamBurst; i++) expect(f.allow(occurrence, source, t0)).toBe(true)
    expect(f.allow(occurrence, source, t0)).toBe(false)
    // another object has its own bucket
    expect(f.allow({ ...occurrence, regarding: { kind: 'Pod', name: 'db', namespace: 'default' } }, source, t0)).toBe(true)
    expect(f.allow(occurrence, source, t0 + spamRefillMs - 1)).toBe(false)
    expect(f.allow(occurrence, source, t0 + spamRefillMs + 1)).toBe(true)
    expect(f.allow(occurrence, source, t0 + spamRefillMs + 2)).toBe(false)
  })

  it('keeps the buckets of the 4,096 objects heard from last, as client-go\'s LRU: an evicted object starts full again', () => {
    const f = new SpamFilter()
    for (let i = 0; i < spamBurst; i++) f.allow(occurrence, source, t0)
    expect(f.allow(occurrence, source, t0)).toBe(false)
    for (let i = 0; i < spamFilterEntries - 1; i++) f.allow({ ...occurrence, regarding: { kind: 'Pod', name: `p${i}`, namespace: 'default' } }, source, t0)
    expect(f.size).toBe(spamFilterEntries)
    // still held: the emptied bucket was used last before the others
    expect(f.allow(occurrence, source, t0)).toBe(false)
    for (let i = 0; i < spamFilterEntries; i++) f.allow({ ...occurrence, regarding: { kind: 'Pod', name: `q${i}`, namespace: 'default' } }, source, t0)
    expect(f.size).toBe(spamFilterEntries)
    expect(f.allow(occurrence, source, t0)).toBe(true)
  })

  it('expires events whose last write is older than the TTL', () => {
    const ev = (name: string, fields: Record<string, unknown>): KubeObject => ({ kind: 'Event', metadata: { name, creationTimestamp: '2026-01-02T03:00:00Z' }, ...fields })
    const events = [
      ev('old', {}),
      ev('series', { series: { count: 2, lastObservedTime: '2026-01-02T03:59:30.000000Z' } }),
      ev('legacy', { lastTimestamp: '2026-01-02T03:30:00Z' }),
    ]
    const now = Date.parse('2026-01-02T04:00:00Z')
    expect(expiredEvents(events, now, 3_600_000).map((e) => e.metadata.name)).toEqual(['old'])
    expect(expiredEvents(events, now, 60_000).map((e) => e.metadata.name)).toEqual(['old', 'legacy'])
  })
})

async function getJson(cp: ControlPlane, path: string): Promise<{ items: Record<string, unknown>[] } & Record<string, unknown>> {
  const res = await fetch(`${cp.url}${path}`)
  expect(res.status).toBe(200)
  return await res.json() as never
}

describe('event broadcaster against the API', () => {
  it('writes one Event per series, served by both APIs with their field names and selectors', async () => {
    let now = t0
    const cp = await controlPlane({ clock: { now: () => now } })
    const b = new EventBroadcaster({ client: cp.client, clock: { now: () => now } })
    const r = b.recorderFor(source)
    r.recordEvent(occurrence.regarding, 'Unhealthy', 'Readiness probe failed', 'Warning', 'Probing')
    await b.flush()
    now += 1000
    r.recordEvent(occurrence.regarding, 'Unhealthy', 'Readiness probe failed', 'Warning', 'Probing')
    r.recordEvent(occurrence.regarding, 'Unhealthy', 'Readiness probe failed', 'Warning', 'Probing')
    r.recordEvent(occurrence.regarding, 'Started', 'Started container web')
    await b.flush()
    const core = await getJson(cp, '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=web,reason=Unhealthy')
    expect(core.items).toHaveLength(1)
    expect(core.items[0]).toMatchObject({
      apiVersion: 'v1', kind: 'Event', involvedObject: { kind: 'Pod', name: 'web', uid: 'u1' }, message: 'Readiness probe failed', type: 'Warning',
      reportingComponent: 'kubelet', reportingInstance: 'node-1', source: { component: 'kubelet', host: 'node-1' }, series: { count: 3, lastObservedTime: microTime(t0 + 1000) },
    })
    const v1 = await getJson(cp, '/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=regarding.name=web,reason=Unhealthy')
    expect(v1.items).toHaveLength(1)
    expect(v1.items[0]).toMatchObject({ apiVersion: 'events.k8s.io/v1', regarding: { kind: 'Pod', name: 'web' }, note: 'Readiness probe failed', reportingController: 'kubelet', deprecatedSource: { component: 'kubelet' } })
    expect(v1.items[0]).not.toHaveProperty('message')
    expect((v1.items[0]!['metadata'] as { uid: string }).uid).toBe((core.items[0]!['metadata'] as { uid: string }).uid)
    expect((await getJson(cp, '/api/v1/namespaces/default/events?fieldSelector=involvedObject.uid=u1')).items).toHaveLength(2)
    // a core/v1 write is readable as events.k8s.io/v1 too
    await cp.client.create(resources.coreEvents, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'legacy', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'db' }, reason: 'Pulled', message: 'pulled', type: 'Normal', count: 4 })
    expect(await getJson(cp, '/apis/events.k8s.io/v1/namespaces/default/events/legacy')).toMatchObject({ regarding: { name: 'db' }, note: 'pulled', deprecatedCount: 4 })
    b.stop()
  })

  it('deletes events after the TTL, counted from their last write', async () => {
    let now = t0
    const clock = { now: () => now }
    const cp = await controlPlane({ clock })
    const b = new EventBroadcaster({ client: cp.client, clock })
    b.recorderFor(source).recordEvent(occurrence.regarding, 'Started', 'a')
    await b.flush()
    now += 30_000
    b.recorderFor(source).recordEvent({ ...occurrence.regarding, name: 'db' }, 'Started', 'b')
    await b.flush()
    const expiry = new EventExpiry({ store: cp.store, client: cp.client, clock, ttlMs: 60_000 })
    now += 40_000
    await expiry.sweep()
    const left = (await getJson(cp, '/api/v1/namespaces/default/events')).items.map((e) => (e['involvedObject'] as { name: string }).name)
    expect(left).toEqual(['db'])
    b.stop()
  })

  it('records Scheduled, SuccessfulCreate and ScalingReplicaSet from the controllers', async () => {
    const cp = await controlPlane()
    await cp.client.create(resources.deployments, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
    })
    const want = ['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled']
    let reasons: string[] = []
    for (let i = 0; i < 200 && !want.every((w) => reasons.includes(w)); i++) {
      await cp.controllers.idle()
      await cp.controllers.events.flush()
      reasons = (await getJson(cp, '/api/v1/namespaces/default/events')).items.map((e) => String(e['reason']))
    }
    expect(reasons).toEqual(expect.arrayContaining(want))
    const all = (await getJson(cp, '/api/v1/namespaces/default/events')).items
    const scaling = all.find((e) => e['reason'] === 'ScalingReplicaSet')
    expect(scaling).toMatchObject({ involvedObject: { kind: 'Deployment', name: 'web' }, reportingComponent: 'deployment-controller', message: expect.stringMatching(/^Scaled up replica set web-[a-z0-9]+ from 0 to 2$/) })
    const scheduled = all.filter((e) => e['reason'] === 'Scheduled')
    expect(scheduled).toHaveLength(2)
    expect(scheduled[0]).toMatchObject({ source: { component: 'default-scheduler' }, message: expect.stringMatching(/^Successfully assigned default\/web-[a-z0-9]+-[a-z0-9]+ to \S+$/) })
  })

  it('records the service controller events of a LoadBalancer Service, and when it stops being one', async () => {
    const cp = await controlPlane()
    const svc = await cp.client.create(resources.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'lb', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } })
    const reasons = async (): Promise<string[]> => {
      await cp.controllers.idle()
      await cp.controllers.events.flush()
      return (await getJson(cp, '/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind=Service,involvedObject.name=lb')).items
        .sort((a, b) => String((a['metadata'] as { name: string }).name).localeCompare(String((b['metadata'] as { name: string }).name))).map((e) => String(e['reason']))
    }
    expect(await reasons()).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer'])
    const live = cp.store.get({ resource: 'services', namespace: 'default', name: 'lb' })!
    await cp.client.update(resources.services, { ...live, spec: { ...(live['spec'] as object), type: 'ClusterIP' } })
    expect(await reasons()).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer', 'DeletingLoadBalancer', 'DeletedLoadBalancer'])
    expect(svc.metadata.uid).toBeDefined()
  })
})

describe('the event recorder at scale', () => {
  const memoryClient = (): { client: import('../../../src/controllers/index.js').ControllerClient; created: KubeObject[] } => {
    const created: KubeObject[] = []
    const ok = async (_: unknown, o: KubeObject): Promise<KubeObject> => ({ ...o, metadata: { ...o.metadata, resourceVersion: '1' } })
    return { created, client: { create: async (i, o) => { created.push(o); return ok(i, o) }, update: ok, updateStatus: ok, delete: async () => ({}) as KubeObject } }
  }

  it('records 30,000 events about distinct objects without sweeping every series per event', async () => {
    const { client, created } = memoryClient()
    const b = new EventBroadcaster({ client, clock: { now: () => t0 } })
    const rec = b.recorderFor(source)
    const t = Date.now()
    for (let i = 0; i < 30_000; i++) rec.recordEvent({ ...occurrence.regarding, name: `p${i}`, uid: `u${i}` }, 'Scheduled', 'assigned', 'Normal', 'Binding')
    await b.flush()
    expect(created).toHaveLength(30_000)
    expect(Date.now() - t).toBeLessThan(8_000)
  })

  it('a finished series not yet swept starts a new Event, not a repeat', async () => {
    const { client, created } = memoryClient()
    let now = t0
    const b = new EventBroadcaster({ client, clock: { now: () => now } })
    const rec = b.recorderFor(source)
    rec.recordEvent(occurrence.regarding, 'Started', 'x')
    await b.flush()
    now += 7 * 60_000
    rec.recordEvent(occurrence.regarding, 'Started', 'x')
    await b.flush()
    expect(created).toHaveLength(2)
    expect((created[1] as { series?: unknown }).series).toBeUndefined()
  })
})

describe('the event recorder\'s memory', () => {
  it('remembers a series in under 1,100 bytes of heap (950 here, counting the strings this test makes), not a whole Event (1,270)', async () => {
    const { setFlagsFromString } = await import('node:v8')
    const { runInNewContext } = await import('node:vm')
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const ok = async (_: unknown, o: KubeObject): Promise<KubeObject> => o
    const b = new EventBroadcaster({ client: { create: ok, update: ok, updateStatus: ok, delete: async () => ({}) as KubeObject }, clock: { now: () => t0 } })
    const rec = b.recorderFor({ controller: 'default-scheduler', instance: 'default-scheduler-kpe' })
    const n = 10_000
    gc(); gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < n; i++) {
      const name = `scale-${i}`
      rec.recordEvent({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name, uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, resourceVersion: String(1000 + i) },
        'Scheduled', `Successfully assigned default/${name} to node-${i % 1000}`, 'Normal', 'Binding')
    }
    await b.flush()
    gc(); gc()
    const perSeries = (process.memoryUsage().heapUsed - before) / n
    expect(perSeries).toBeLessThan(1_100)
  })
})
