/**
 * The scheduler at scale: its cache of per-node counts agrees with counting every Pod from
 * scratch (property), and the controller loop runs several reconciles at once, never two of one key.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Node, Pod } from '../../../src/api/index.js'
import { ControllerLoop, schedulerController, type ControllerClient, type PodBinder } from '../../../src/controllers/index.js'
import { ScheduledPodCounts } from '../../../src/controllers/scheduled-pod-counts.js'
import { podFitsNode, podsPerNode, schedulePod, siblingsPerNode } from '../../../src/controllers/scheduling.js'
import { VersionedStore, type KubeObject } from '../../../src/store/index.js'

const anyPod = fc.record({
  name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  node: fc.option(fc.constantFrom('n1', 'n2', 'n3'), { nil: undefined }),
  owner: fc.option(fc.constantFrom('rs1', 'rs2'), { nil: undefined }),
  phase: fc.constantFrom('Pending', 'Running', 'Succeeded', 'Failed'),
  terminating: fc.boolean(),
}).map((p): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: p.name, namespace: 'default', ...(p.terminating ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}), ...(p.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: p.owner, uid: p.owner, controller: true }] } : {}) },
  spec: { containers: [], ...(p.node ? { nodeName: p.node } : {}) },
  status: { phase: p.phase },
}) as Pod)

describe('ScheduledPodCounts', () => {
  it('equals podsPerNode and siblingsPerNode of the live Pods after any events (property)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(anyPod, fc.boolean()), { maxLength: 60 }), (events) => {
      const counts = new ScheduledPodCounts()
      const live = new Map<string, Pod>()
      for (const [pod, gone] of events) {
        counts.observe(pod, gone)
        if (gone) live.delete(pod.metadata.name!)
        else live.set(pod.metadata.name!, pod)
      }
      const pods = [...live.values()]
      expect(new Map(counts.perNode)).toEqual(podsPerNode(pods))
      for (const p of pods) expect(new Map(counts.siblingsOf(p))).toEqual(siblingsPerNode(p, pods))
    }), { seed: 5, numRuns: 300 })
  })

  it('an assumed binding counts until the write fails and is forgotten', () => {
    const counts = new ScheduledPodCounts()
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [] } } as Pod
    counts.assume(pod, 'n1')
    expect(counts.perNode.get('n1')).toBe(1)
    counts.forget(pod)
    expect(counts.perNode.size).toBe(0)
  })
})

describe('ControllerLoop workers', () => {
  it('runs up to `workers` reconciles at once and never one key twice at a time', async () => {
    const store = await VersionedStore.open()
    let inFlight = 0
    let most = 0
    const running = new Set<string>()
    const overlaps: string[] = []
    const done: string[] = []
    const loop = new ControllerLoop(store, {
      name: 'test', watches: [], initialKeys: () => [], workers: 4,
      reconcile: async (key) => {
        if (running.has(key)) overlaps.push(key)
        running.add(key)
        most = Math.max(most, ++inFlight)
        await new Promise((r) => setTimeout(r, 5))
        inFlight--
        running.delete(key)
        done.push(key)
      },
    })
    loop.start()
    for (let i = 0; i < 20; i++) loop.enqueue(`k${i % 10}`)
    await new Promise((r) => setTimeout(r, 1))
    loop.enqueue('k0')
    await loop.idle()
    expect(most).toBe(4)
    expect(overlaps).toEqual([])
    expect(new Set(done)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `k${i}`)))
    loop.stop()
    await store.close()
  })
})

describe('scheduler requeues on Node changes', () => {
  it('a Node event retries only the Pods found unschedulable, not every pending Pod', async () => {
    const store = await VersionedStore.open()
    await store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { zone: 'a' } } })
    const pending = (name: string, nodeSelector?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c' }], ...(nodeSelector ? { nodeSelector } : {}) } })
    for (let i = 0; i < 50; i++) await store.create('pods', pending(`queued-${i}`))
    await store.create('pods', pending('nowhere', { zone: 'b' }))
    const writes: string[] = []
    const client: ControllerClient & PodBinder = {
      create: async (_i, o) => o, delete: async (_i, _ns, n) => ({ metadata: { name: n } }) as KubeObject,
      bind: async (_ns, b) => { writes.push(`bind ${b.metadata.name}`); return { metadata: { name: b.metadata.name } } as KubeObject },
      update: async (_i, o) => { writes.push(`bind ${o.metadata.name ?? ''}`); return o },
      updateStatus: async (_i, o) => { writes.push(`status ${o.metadata.name ?? ''}`); return o },
    }
    const def = schedulerController(store, client, { now: () => Date.parse('2026-12-06T00:00:00Z') })
    expect(def.initialKeys()).toHaveLength(51)
    await def.reconcile('default/nowhere')
    expect(writes).toEqual(['status nowhere'])
    const nodeEvent = { type: 'MODIFIED' as const, resource: 'nodes', object: store.get({ resource: 'nodes', namespace: '', name: 'n1' })!, resourceVersion: store.resourceVersion }
    const nodesWatch = def.watches.find((w) => w.resource === 'nodes')!
    expect(nodesWatch.keysOf(nodeEvent)).toEqual(['default/nowhere'])
    // once it is gone (or bound), Node events retry nothing
    const gone = await store.delete({ resource: 'pods', namespace: 'default', name: 'nowhere' })
    def.watches.find((w) => w.resource === 'pods')!.keysOf({ type: 'DELETED', resource: 'pods', object: gone, resourceVersion: store.resourceVersion })
    expect(nodesWatch.keysOf(nodeEvent)).toEqual([])
    await store.close()
  })
})

describe('schedulePod over many Nodes', () => {
  const nodeOf = (i: number, taint: boolean, zone: string): Node => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${String(i).padStart(4, '0')}`, labels: { zone } },
    spec: taint ? { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] } : {},
  }) as Node
  /** The rule written plainly: filter, sort by (siblings, pods, name), take the first. */
  const reference = (pod: Pod, nodes: readonly Node[], perNode: ReadonlyMap<string, number>, siblings: ReadonlyMap<string, number>): string | undefined => {
    const key = (n: Node): [number, number, string] => [siblings.get(n.metadata.name!) ?? 0, perNode.get(n.metadata.name!) ?? 0, n.metadata.name!]
    return nodes.filter((n) => podFitsNode(pod, n)).sort((a, b) => {
      const [x, y] = [key(a), key(b)]
      return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0)
    })[0]?.metadata.name
  }

  it('picks the Node the plain rule picks (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ taint: fc.boolean(), zone: fc.constantFrom('a', 'b'), pods: fc.nat(3), siblings: fc.nat(2) }), { maxLength: 12 }),
      fc.boolean(), fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
      (spec, tolerates, zone) => {
        const nodes = spec.map((s, i) => nodeOf(i, s.taint, s.zone)).reverse()
        const perNode = new Map(spec.map((s, i) => [`node-${String(i).padStart(4, '0')}`, s.pods]))
        const siblings = new Map(spec.map((s, i) => [`node-${String(i).padStart(4, '0')}`, s.siblings]))
        const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
          spec: { containers: [], ...(zone ? { nodeSelector: { zone } } : {}), ...(tolerates ? { tolerations: [{ key: 'dedicated', operator: 'Exists' }] } : {}) } } as Pod
        const got = schedulePod(pod, nodes, perNode, siblings)
        const want = reference(pod, nodes, perNode, siblings)
        expect(got.kind === 'scheduled' ? got.nodeName : undefined).toBe(want)
      }), { seed: 17, numRuns: 500 })
  })
})
