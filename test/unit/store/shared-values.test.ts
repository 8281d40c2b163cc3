import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { freezeShared, StringInterner } from '../../../src/store/shared-values.js'
import { openMemoryStore, type KubeObject } from '../../../src/store/index.js'

/** A pod as a request body decodes it: every string and empty object a fresh copy. */
function decodedPod(i: number): KubeObject {
  return JSON.parse(JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: 'default', labels: { app: 'scale' }, uid: `0000-${i}`, creationTimestamp: '2026-12-06T08:29:47Z',
      managedFields: [{ manager: 'kpe-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-12-06T08:29:47Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:nodeName': {} } } }] },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} }],
      restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', securityContext: {}, nodeName: `node-${i % 1000}`,
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] },
    status: { phase: 'Running', qosClass: 'BestEffort', podIP: `10.240.${i >> 8 & 255}.${i & 255}`, startTime: '2026-12-06T08:29:48Z',
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: '2026-12-06T08:29:48Z' })),
      containerStatuses: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: '2026-12-06T08:29:48Z' } } }] },
  })) as KubeObject
}

describe('StringInterner', () => {
  it('answers an equal string and keeps at most two generations of strings', () => {
    const strings = new StringInterner(100)
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 200 }), { maxLength: 500 }), (xs) => {
      for (const x of xs) expect(strings.intern(x)).toBe(x)
      expect(strings.size).toBeLessThanOrEqual(200)
    }), { seed: 17, numRuns: 200 })
  })

  it('keeps a string that is used again across generations and drops one seen once', () => {
    const strings = new StringInterner(4)
    const image = 'registry.k8s.io/pause:3.10'
    strings.intern(image)
    for (let i = 0; i < 20; i++) {
      strings.intern(`unique-string-${i}`)
      strings.intern(image)
    }
    expect(strings.has(image)).toBe(true)
    expect(strings.has('unique-string-0')).toBe(false)
  })

  it('leaves strings V8 already shares (up to 10 characters) and long ones out of the table', () => {
    const strings = new StringInterner()
    for (const s of ['True', 'v1', '0123456789', 'x'.repeat(129)]) strings.intern(s)
    expect(strings.size).toBe(0)
    strings.intern('01234567890')
    expect(strings.size).toBe(1)
  })
})

describe('freezeShared', () => {
  it('deep-freezes, keeps every value equal, and makes empty objects and arrays one frozen instance', () => {
    const strings = new StringInterner()
    const a = freezeShared(decodedPod(1), strings)
    const b = freezeShared(decodedPod(2), strings)
    expect(a).toEqual(decodedPod(1))
    expect(Object.isFrozen(a.spec)).toBe(true)
    expect(() => { (a.metadata as { name: string }).name = 'x' }).toThrow()
    const resources = (o: KubeObject): unknown => (o['spec'] as { containers: { resources: unknown }[] }).containers[0]?.resources
    expect(resources(a)).toBe(resources(b))
    expect((a['spec'] as { securityContext: unknown }).securityContext).toBe(resources(b))
    expect(freezeShared({ a: [], b: [] }, strings).a).toBe(freezeShared({ c: [] }, strings).c)
  })

  it('leaves class instances and already frozen parts as they are, and ends at a cycle', () => {
    const strings = new StringInterner()
    const frozenEmpty = Object.freeze({})
    const date = new Date(0)
    const cyclic: Record<string, unknown> = { name: 'x' }
    cyclic['self'] = cyclic
    const out = freezeShared({ frozenEmpty, date, cyclic }, strings)
    expect(out.frozenEmpty).toBe(frozenEmpty)
    expect(out.date).toBe(date)
    expect(out.cyclic['self']).toBe(cyclic)
    expect(Object.isFrozen(cyclic)).toBe(true)
  })

  it('keeps any JSON value equal to what it was', () => {
    const strings = new StringInterner(64)
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const copy = JSON.parse(JSON.stringify(v)) as unknown
      expect(freezeShared(copy, strings)).toEqual(JSON.parse(JSON.stringify(v)))
    }), { seed: 17, numRuns: 300 })
  })
})

describe('VersionedStore memory per object', () => {
  it('a stored pod decoded from a request costs under 3,200 bytes of heap (2,400 now; 3,800 before equal strings and empty objects were shared)', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const store = await openMemoryStore({ historySize: 1 })
    const n = 5_000
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < n; i++) await store.create('pods', decodedPod(i))
    gc()
    const perPod = (process.memoryUsage().heapUsed - before) / n
    expect(store.list('pods').items).toHaveLength(n)
    expect(perPod).toBeLessThan(3_200)
  })
})
