/**
 * Node heartbeats and node failure: the pure rules (last heard, Unknown conditions, unreachable
 * taints, pods not ready, eviction time, default tolerations, the kubelet's Lease and
 * conditions), then the controller on a fake clock against a real control plane.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { Node, Pod } from '../../../src/api/index.js'
import { startControlPlane, type ControlPlane } from '../../../src/cluster/index.js'
import {
  evictionAt, isSilent, lastHeard, NodeLifecycleController, podMarkedNotReady, resources, silentNodeConditions, unreachableTaints, withDefaultTolerations,
  type NodeCondition, type NodeTaint,
} from '../../../src/controllers/index.js'
import { kubeletConditions, NodeHeartbeat, nodeLease } from '../../../src/kubelet/index.js'
import type { TimerHandle, Timers } from '../../../src/runtime/index.js'
import type { KubeObject } from '../../../src/store/index.js'

const t0 = Date.parse('2026-01-02T03:00:00Z')
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z')

function node(conditions: NodeCondition[] = [], taints: NodeTaint[] = []): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', creationTimestamp: iso(t0 - 3_600_000) }, spec: { taints }, status: { conditions } }
}
function pod(tolerations?: unknown[], ready = true): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
    spec: { nodeName: 'n1', containers: [{ name: 'c' }], ...(tolerations ? { tolerations } : {}) },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }, { type: 'PodScheduled', status: 'True' }] },
  }
}
const unreachableNoExecute: NodeTaint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(t0) }

describe('node lifecycle rules', () => {
  it('hears a node through its Lease or its Ready heartbeat, whichever is newer', () => {
    const n = node([{ type: 'Ready', status: 'True', lastHeartbeatTime: iso(t0 - 60_000) }])
    expect(lastHeard(n, undefined)).toBe(t0 - 60_000)
    expect(lastHeard(n, { spec: { renewTime: '2026-01-02T02:59:50.123456Z' } })).toBe(t0 - 9_877)
    expect(isSilent(n, { spec: { renewTime: '2026-01-02T02:59:50.000000Z' } }, t0 + 30_000, 40_000)).toBe(false)
    expect(isSilent(n, { spec: { renewTime: '2026-01-02T02:59:50.000000Z' } }, t0 + 30_001, 40_000)).toBe(true)
    expect(isSilent(node(), undefined, t0, 40_000)).toBe(true)
  })

  it('turns every kubelet condition Unknown, keeping the heartbeat and other conditions', () => {
    const prev: NodeCondition[] = [
      { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: iso(t0 - 50_000), lastTransitionTime: iso(t0 - 900_000) },
      { type: 'NetworkUnavailable', status: 'False' },
    ]
    const out = silentNodeConditions(prev, t0)
    expect(out.find((c) => c.type === 'Ready')).toEqual({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: iso(t0 - 50_000), lastTransitionTime: iso(t0) })
    expect(out.find((c) => c.type === 'MemoryPressure')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated' })
    expect(out.find((c) => c.type === 'NetworkUnavailable')).toEqual({ type: 'NetworkUnavailable', status: 'False' })
    // a second pass keeps the transition time
    expect(silentNodeConditions(out, t0 + 5000).find((c) => c.type === 'Ready')?.lastTransitionTime).toBe(iso(t0))
  })

  it('adds the unreachable taint pair once, and removes only it', () => {
    const other: NodeTaint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' }
    const added = unreachableTaints([other], true, t0)
    expect(added).toEqual([other, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, unreachableNoExecute])
    expect(unreachableTaints(added, true, t0 + 9000)).toEqual(added)
    expect(unreachableTaints(added, false, t0 + 9000)).toEqual([other])
  })

  it('marks a Ready pod not ready and leaves others alone', () => {
    const marked = podMarkedNotReady(pod(), t0)
    expect(marked?.status?.conditions?.find((c) => c.type === 'Ready')).toEqual({ type: 'Ready', status: 'False', lastTransitionTime: iso(t0) })
    expect(podMarkedNotReady(pod(undefined, false), t0)).toBeUndefined()
  })

  it('evicts at once without a toleration, after tolerationSeconds with one, never without a limit', () => {
    expect(evictionAt(pod(), [unreachableNoExecute], t0 + 1000)).toBe(t0 + 1000)
    expect(evictionAt(pod([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]), [unreachableNoExecute], t0 + 1000)).toBe(t0 + 300_000)
    expect(evictionAt(pod([{ operator: 'Exists' }]), [unreachableNoExecute], t0)).toBeUndefined()
    expect(evictionAt(pod(), [{ key: 'x', effect: 'NoSchedule' }], t0)).toBeUndefined()
  })

  it('never evicts before the smallest matching tolerationSeconds has passed since the taint was added', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -5, max: 1000 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 2_000_000 }), (seconds, later) => {
      const tolerations = seconds.map((s) => ({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: s }))
      const at = evictionAt(pod(tolerations), [unreachableNoExecute], t0 + later)
      expect(at).toBe(t0 + Math.max(0, Math.min(...seconds)) * 1000)
    }), { seed: 13, numRuns: 200 })
  })

  it('adds the default tolerations only where the pod has none of its own', () => {
    expect(withDefaultTolerations(undefined)).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ])
    const own = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }]
    expect(withDefaultTolerations(own, { notReadySeconds: 7 })).toEqual([...own, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 7 }])
    const all = [{ operator: 'Exists' }]
    expect(withDefaultTolerations(all)).toBe(all)
  })

  it("builds the kubelet's Lease and healthy conditions", () => {
    const lease = nodeLease('n1', { metadata: { name: 'n1', uid: 'u' } }, t0 + 5, 40)
    expect(lease).toEqual({
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: { name: 'n1', namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u' }] },
      spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-01-02T03:00:00.005000Z' },
    })
    const c = kubeletConditions([{ type: 'Ready', status: 'True', lastTransitionTime: iso(t0 - 1000) }, { type: 'NetworkUnavailable', status: 'False' }], t0)
    expect(c.map((x) => [x.type, x.status])).toEqual([['NetworkUnavailable', 'False'], ['MemoryPressure', 'False'], ['DiskPressure', 'False'], ['PIDPressure', 'False'], ['Ready', 'True']])
    expect(c.find((x) => x.type === 'Ready')).toMatchObject({ reason: 'KubeletReady', lastHeartbeatTime: iso(t0), lastTransitionTime: iso(t0 - 1000) })
    expect(c.find((x) => x.type === 'MemoryPressure')).toMatchObject({ reason: 'KubeletHasSufficientMemory', lastTransitionTime: iso(t0) })
  })
})

/** Timers that fire only when the test advances them. */
class ManualTimers implements Timers {
  readonly pending = new Map<number, { at: number; fn: () => void }>()
  #next = 0
  now = t0
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++
    this.pending.set(id, { at: this.now + ms, fn })
    return { id }
  }
  clearTimeout(h: TimerHandle): void {
    this.pending.delete(h.id as number)
  }
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function controlPlane(clock: { now(): number }): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'kpe-nodes-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const cp = await startControlPlane({ dataDir: dir, port: 0, clock, defaultTolerations: { unreachableSeconds: 20 } })
  cleanups.push(() => cp.stop())
  return cp
}

describe('node lifecycle controller and heartbeat', () => {
  it('marks a silent node Unknown and tainted, evicts after the toleration, and clears the taints once heard again', async () => {
    const timers = new ManualTimers()
    const clock = { now: () => timers.now }
    const cp = await controlPlane(clock)
    const nodeName = 'node-a'
    const api = { get: (resource: 'nodes' | 'leases.coordination.k8s.io', namespace: string, name: string) => cp.store.get({ resource, namespace, name }), client: cp.client }
    const heartbeat = new NodeHeartbeat({ nodeName, api, timers, clock })
    await heartbeat.start()
    const lease = cp.store.get({ resource: 'leases.coordination.k8s.io', namespace: 'kube-node-lease', name: nodeName })
    expect(lease?.['spec']).toMatchObject({ holderIdentity: nodeName, leaseDurationSeconds: 40 })
    const created = await cp.client.create(resources.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { nodeName, containers: [{ name: 'c', image: 'x' }] } })
    expect((created['spec'] as { tolerations: unknown[] }).tolerations).toContainEqual({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 20 })
    await cp.client.updateStatus(resources.pods, { ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })
    const lifecycle = new NodeLifecycleController({ store: cp.store, client: cp.client, clock, timers, gracePeriodMs: 40_000 })
    const readyOf = (): string | undefined => ((cp.store.get({ resource: 'nodes', namespace: '', name: nodeName })?.['status'] as { conditions: NodeCondition[] }).conditions.find((c) => c.type === 'Ready'))?.status
    const taintsOf = (): NodeTaint[] => ((cp.store.get({ resource: 'nodes', namespace: '', name: nodeName })?.['spec'] as { taints?: NodeTaint[] }).taints ?? [])
    const podOf = (): KubeObject | undefined => cp.store.get({ resource: 'pods', namespace: 'default', name: 'p' })

    timers.now += 30_000
    await lifecycle.monitor()
    expect(readyOf()).toBe('True')
    heartbeat.stop() // crash: no more renewals
    timers.now += 10_001 // 40 s after the last renewal
    await lifecycle.monitor()
    expect(readyOf()).toBe('Unknown')
    expect(taintsOf().map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute'])
    expect((podOf()?.['status'] as Pod['status'])?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False')
    timers.now += 19_000
    await lifecycle.monitor()
    expect(podOf()?.metadata.deletionTimestamp).toBeUndefined()
    timers.now += 1_000
    await lifecycle.monitor()
    expect(podOf()?.metadata.deletionTimestamp).toBeDefined()

    const restarted = new NodeHeartbeat({ nodeName, api, timers, clock })
    await restarted.start()
    expect(readyOf()).toBe('True')
    await lifecycle.monitor()
    expect(taintsOf()).toEqual([])
    restarted.stop()
    lifecycle.stop()
  })
})
