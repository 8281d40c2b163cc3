/**
 * The scheduler loop: Pods without spec.nodeName (and for the default scheduler) are bound to the
 * Node schedulePod picks by one Binding (pods/NAME/binding: nodeName and PodScheduled=True in one
 * write); Pods that fit nowhere get PodScheduled=False/Unschedulable and are retried when Nodes change.
 */
import type { Node, Pod, PodCondition } from '../api/index.js'
import { formatTimestamp, objectKey } from '../api/index.js'
import type { Clock } from '../runtime/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient, type PodBinder } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { schedulePod } from './scheduling.js'
import { ScheduledPodCounts } from './scheduled-pod-counts.js'
import { discardEvents, type EventRecorder } from './event-recorder.js'

function isPending(o: KubeObject): boolean {
  const pod = o as unknown as Pod
  const scheduler = pod.spec?.['schedulerName']
  return !pod.spec?.nodeName && !pod.metadata.deletionTimestamp && (scheduler === undefined || scheduler === 'default-scheduler')
}

function withCondition(pod: Pod, c: PodCondition): Pod {
  const next = structuredClone(pod)
  const conditions = (next.status?.conditions ?? []).filter((x) => x.type !== c.type)
  next.status = { ...(next.status ?? {}), conditions: [...conditions, c] }
  return next
}

export function schedulerController(store: ObjectStore, client: ControllerClient & PodBinder, clock: Clock, events: EventRecorder = discardEvents): ControllerDefinition {
  const pendingKeys = (): string[] => store.list(storage.pods).items.filter(isPending).map((p) => objectKey(p))
  const counted = new ScheduledPodCounts()
  /**
   * Pods last found to fit nowhere (upstream's unschedulable queue): a Node change retries these
   * only. Every other pending Pod is queued already; listing all Pods per Node heartbeat was most
   * of the scheduler's time at 1,000 nodes and 100,000 pods.
   */
  const unschedulable = new Set<string>()
  return {
    name: 'scheduler',
    // Bindings are independent writes; the counts assume each before it lands, so several can be in flight.
    workers: 32,
    watches: [
      {
        resource: storage.pods,
        keysOf: (ev) => {
          counted.observe(ev.object as unknown as Pod, ev.type === 'DELETED')
          const key = objectKey(ev.object)
          if (ev.type !== 'DELETED' && isPending(ev.object)) return [key]
          unschedulable.delete(key)
          return []
        },
      },
      { resource: storage.nodes, keysOf: () => [...unschedulable] },
    ],
    initialKeys: () => {
      for (const p of store.list(storage.pods).items) counted.observe(p as unknown as Pod)
      return pendingKeys()
    },
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key)
      const live = store.get({ resource: storage.pods, namespace, name })
      if (!live || !isPending(live)) {
        unschedulable.delete(key)
        return
      }
      const pod = live as unknown as Pod
      const nodes = store.list(storage.nodes).items as unknown as Node[]
      const decision = schedulePod(pod, nodes, counted.perNode, counted.siblingsOf(pod))
      const now = formatTimestamp(clock.now())
      if (decision.kind === 'unschedulable') {
        unschedulable.add(key)
        const prev = pod.status?.conditions?.find((c) => c.type === 'PodScheduled')
        if (prev?.status === 'False' && prev['message'] === decision.message) return
        await client.updateStatus(resources.pods, withCondition(pod, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: decision.message, lastTransitionTime: now, lastProbeTime: null }) as unknown as KubeObject)
        events.recordEvent(live, 'FailedScheduling', decision.message, 'Warning', 'Scheduling')
        return
      }
      unschedulable.delete(key)
      counted.assume(pod, decision.nodeName)
      try {
        // The uid, as upstream's scheduler sends it: a Pod deleted and created again under the name is not bound by mistake.
        await client.bind(namespace, { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) }, target: { kind: 'Node', name: decision.nodeName } })
      } catch (e) {
        counted.forget(pod)
        throw e
      }
      // Recorded at the binding, before the kubelet that sees it records its own events.
      events.recordEvent(live, 'Scheduled', `Successfully assigned ${namespace}/${name} to ${decision.nodeName}`, 'Normal', 'Binding')
    },
  }
}
