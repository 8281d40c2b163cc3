/**
 * The node lifecycle controller's loop (part of kube-controller-manager): every monitor period
 * it checks each Node against the grace period; a silent Node gets Unknown conditions, the
 * unreachable taints and its Pods marked not ready; Pods whose toleration of the NoExecute taint
 * has run out are deleted (taint eviction); a Node heard from again loses the taints.
 */
import { objectKey, type Node, type Pod } from '../api/index.js'
import { realTimers, type Clock, type Timers } from '../runtime/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { discardEvents, type EventRecorder } from './event-recorder.js'
import {
  conditionsOf, defaultNodeMonitorGracePeriodMs, evictionAt, isSilent, podMarkedNotReady, readyStatus, silentNodeConditions, unreachableTaints,
  type LeaseLike, type NodeTaint,
} from './node-lifecycle.js'
import { Periodic } from './periodic.js'
import { sameJson } from './same-json.js'

export interface NodeLifecycleOptions {
  readonly store: ObjectStore
  readonly client: ControllerClient
  readonly clock: Clock
  readonly timers?: Timers
  /** kube-controller-manager --node-monitor-grace-period (default 40 s). */
  readonly gracePeriodMs?: number
  /** kube-controller-manager --node-monitor-period (default 5 s, at most a quarter of the grace period). */
  readonly monitorPeriodMs?: number
  readonly events?: EventRecorder
  readonly onError?: (controller: string, key: string, error: unknown) => void
}

const name = 'node-lifecycle-controller'

export class NodeLifecycleController {
  readonly #o: NodeLifecycleOptions
  readonly #events: EventRecorder
  readonly #registered = new Set<string>()
  readonly #periodic: Periodic

  constructor(opts: NodeLifecycleOptions) {
    this.#o = opts
    this.#events = opts.events ?? discardEvents
    this.#periodic = new Periodic(() => this.monitor(), this.monitorPeriodMs, opts.timers ?? realTimers)
  }

  get gracePeriodMs(): number {
    return this.#o.gracePeriodMs ?? defaultNodeMonitorGracePeriodMs
  }

  get monitorPeriodMs(): number {
    return this.#o.monitorPeriodMs ?? Math.max(100, Math.min(5_000, this.gracePeriodMs / 4))
  }

  start(): void {
    this.#periodic.start()
  }

  stop(): void {
    this.#periodic.stop()
  }

  /** One monitor pass over every Node; each Node's failure is reported and the pass goes on. */
  async monitor(): Promise<void> {
    const nodes = this.#o.store.list(storage.nodes).items as unknown as Node[]
    for (const node of nodes) {
      try {
        await this.#monitorNode(node)
      } catch (e) {
        this.#o.onError?.(name, node.metadata.name ?? '', e)
      }
    }
  }

  async #monitorNode(node: Node): Promise<void> {
    const nodeName = node.metadata.name ?? ''
    if (!this.#registered.has(nodeName)) {
      this.#registered.add(nodeName)
      this.#events.recordEvent(node as unknown as KubeObject, 'RegisteredNode', `Node ${nodeName} event: Registered Node ${nodeName} in Controller`)
    }
    const now = this.#o.clock.now()
    const lease = this.#o.store.get({ resource: storage.leases, namespace: 'kube-node-lease', name: nodeName }) as LeaseLike | undefined
    const silent = isSilent(node, lease, now, this.gracePeriodMs)
    let current = node
    if (silent && readyStatus(node) !== 'Unknown') {
      const wasReady = readyStatus(node) === 'True'
      current = await this.#o.client.updateStatus(resources.nodes, { ...node, status: { ...(node.status ?? {}), conditions: silentNodeConditions(conditionsOf(node), now) } } as unknown as KubeObject) as unknown as Node
      if (wasReady) this.#events.recordEvent(node as unknown as KubeObject, 'NodeNotReady', `Node ${nodeName} status is now: NodeNotReady`)
    }
    const taints = (current.spec?.taints ?? []) as NodeTaint[]
    const nextTaints = unreachableTaints(taints, silent, now)
    if (!sameJson(taints, nextTaints)) {
      const { taints: _, ...restSpec } = current.spec ?? {}
      current = await this.#o.client.update(resources.nodes, { ...current, spec: { ...restSpec, ...(nextTaints.length > 0 ? { taints: nextTaints } : {}) } } as unknown as KubeObject) as unknown as Node
      if (!silent) this.#events.recordEvent(node as unknown as KubeObject, 'NodeReady', `Node ${nodeName} status is now: NodeReady`)
    }
    if (!silent) return
    const pods = (this.#o.store.list(storage.pods).items as unknown as Pod[]).filter((p) => p.spec.nodeName === nodeName && !p.metadata.deletionTimestamp)
    for (const pod of pods) await this.#silentNodePod(pod, nextTaints, now)
  }

  async #silentNodePod(pod: Pod, taints: readonly NodeTaint[], now: number): Promise<void> {
    const notReady = podMarkedNotReady(pod, now)
    if (notReady) {
      await this.#o.client.updateStatus(resources.pods, notReady as unknown as KubeObject)
      this.#events.recordEvent(pod as unknown as KubeObject, 'NodeNotReady', 'Node is not ready', 'Warning', 'NodeNotReady')
    }
    const at = evictionAt(pod, taints, now)
    if (at === undefined || at > now) return
    this.#events.recordEvent(pod as unknown as KubeObject, 'TaintManagerEviction', `Marking for deletion Pod ${objectKey(pod)}`, 'Normal', 'Eviction')
    try {
      await this.#o.client.delete(resources.pods, pod.metadata.namespace, pod.metadata.name ?? '', { preconditions: { uid: pod.metadata.uid ?? '' } })
    } catch (e) {
      if (String((e as { reason?: unknown }).reason) !== 'NotFound') throw e
    }
  }
}
