/**
 * The broadcaster under arbitrary interleavings of occurrences, time and flushes (fast-check,
 * seeded), against an in-memory API: once written, each distinct occurrence is one Event whose
 * series count is the number of times it happened and whose lastObservedTime is the last time.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EventBroadcaster, microTime, type ControllerClient, type EventV1, type ObjectReference } from '../../../src/controllers/index.js'
import type { KubeObject } from '../../../src/store/index.js'

/** An API that keeps objects by name and answers as kube-apiserver does on name clashes and misses. */
function memoryApi(): { client: ControllerClient; objects: Map<string, KubeObject> } {
  const objects = new Map<string, KubeObject>()
  const fail = (reason: string): never => { throw Object.assign(new Error(reason), { reason }) }
  const client: ControllerClient = {
    create: async (_info, o) => {
      await Promise.resolve()
      if (objects.has(o.metadata.name ?? '')) fail('AlreadyExists')
      objects.set(o.metadata.name ?? '', structuredClone(o))
      return o
    },
    update: async (_info, o) => {
      await new Promise((r) => setImmediate(r))
      if (!objects.has(o.metadata.name ?? '')) fail('NotFound')
      objects.set(o.metadata.name ?? '', structuredClone(o))
      return o
    },
    updateStatus: async (_info, o) => o,
    delete: async (_info, _ns, name) => { const o = objects.get(name)!; objects.delete(name); return o },
  }
  return { client, objects }
}

const objects: ObjectReference[] = [{ kind: 'Pod', namespace: 'default', name: 'a', uid: '1' }, { kind: 'Node', name: 'n1' }]
const step = fc.oneof(
  fc.record({ kind: fc.constant('record' as const), object: fc.integer({ min: 0, max: 1 }), reason: fc.constantFrom('Unhealthy', 'Started'), note: fc.constantFrom('x', 'y') }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 5_000 }) }),
  fc.constant({ kind: 'flush' as const }),
)

describe('event broadcaster', () => {
  it('writes one Event per distinct occurrence with the exact count and last time', async () => {
    // 25 steps at most: no object exceeds the spam filter's burst, and all fits in one series window
    await fc.assert(fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
      let now = Date.parse('2026-01-02T03:00:00Z')
      const { client, objects: stored } = memoryApi()
      const b = new EventBroadcaster({ client, clock: { now: () => now } })
      const want = new Map<string, { count: number; last: number }>()
      for (const s of steps) {
        if (s.kind === 'tick') now += s.ms
        else if (s.kind === 'flush') await b.flush()
        else {
          b.recorderFor({ controller: 'kubelet', instance: 'n1' }).recordEvent(objects[s.object]!, s.reason, s.note)
          const key = `${objects[s.object]!.name} ${s.reason} ${s.note}`
          want.set(key, { count: (want.get(key)?.count ?? 0) + 1, last: now })
        }
      }
      await b.flush()
      const got = new Map<string, { count: number; last: string }>([...stored.values()].map((o) => {
        const e = o as EventV1
        return [`${e.regarding.name} ${e.reason} ${e.note}`, { count: e.series?.count ?? 1, last: e.series ? e.series.lastObservedTime : e.eventTime }] as const
      }))
      expect(stored.size).toBe(want.size)
      for (const [key, w] of want) expect(got.get(key), key).toEqual({ count: w.count, last: microTime(w.last) })
    }), { seed: 13, numRuns: 150 })
  })
})
