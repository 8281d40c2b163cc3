/**
 * A kubelet's heartbeats: it renews its Node's Lease in kube-node-lease every renew interval
 * (10 s of a 40 s lease, as upstream) and posts the Node's conditions (MemoryPressure,
 * DiskPressure, PIDPressure False; Ready True) at start, every report interval (5 min) and
 * whenever the stored Ready is not True (the node lifecycle controller marked it Unknown).
 */
import { formatTimestamp } from '../api/index.js'
import { discardEvents, microTime, resources, type ControllerClient, type EventRecorder, type NodeCondition } from '../controllers/index.js'
import { RepeatingTask, type Timers } from '../runtime/index.js'
import type { KubeObject } from '../store/index.js'

export const nodeLeaseNamespace = 'kube-node-lease'
export const defaultLeaseDurationSeconds = 40
/** Upstream's nodeStatusReportFrequency: an unchanged status is posted this often. */
export const defaultStatusReportMs = 5 * 60_000

/** Reads from the API (the store) and writes through it. */
export interface NodeApi {
  get(resource: 'nodes' | 'leases.coordination.k8s.io', namespace: string, name: string): KubeObject | undefined
  readonly client: ControllerClient
}

export interface NodeHeartbeatOptions {
  readonly nodeName: string
  readonly api: NodeApi
  readonly timers: Timers
  readonly clock: { now(): number }
  readonly leaseDurationSeconds?: number
  readonly statusReportMs?: number
  readonly events?: EventRecorder
  readonly log?: (line: string) => void
}

/** The Node's Lease as its kubelet writes it: held by the node, owned by the Node object. */
export function nodeLease(nodeName: string, node: KubeObject | undefined, nowMs: number, durationSeconds: number, existing?: KubeObject): KubeObject {
  const ownerReferences = node?.metadata.uid ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid }] : undefined
  return {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { ...(existing?.metadata ?? {}), name: nodeName, namespace: nodeLeaseNamespace, ...(ownerReferences ? { ownerReferences } : {}) },
    spec: { ...((existing?.['spec'] as object | undefined) ?? {}), holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(nowMs) },
  }
}

const healthy: readonly (readonly [string, 'True' | 'False', string, string])[] = [
  ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
  ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
]

/** The conditions a healthy kubelet posts; transition times move only when a status changes. */
export function kubeletConditions(previous: readonly NodeCondition[], nowMs: number): NodeCondition[] {
  const now = formatTimestamp(nowMs)
  const ours = new Set(healthy.map(([type]) => type))
  const kept = previous.filter((c) => !ours.has(c.type))
  return [...kept, ...healthy.map(([type, status, reason, message]): NodeCondition => {
    const prev = previous.find((c) => c.type === type)
    return { type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now }
  })]
}

function readyOf(node: KubeObject | undefined): NodeCondition | undefined {
  const conditions = (node?.['status'] as { conditions?: NodeCondition[] } | undefined)?.conditions
  return Array.isArray(conditions) ? conditions.find((c) => c.type === 'Ready') : undefined
}

/** Upstream's renew interval: a quarter of the lease (10 s of 40 s). */
export function leaseRenewIntervalMs(leaseDurationSeconds = defaultLeaseDurationSeconds): number {
  return leaseDurationSeconds * 250
}

export class NodeHeartbeat {
  readonly #o: NodeHeartbeatOptions
  readonly #events: EventRecorder
  readonly #loop: RepeatingTask

  constructor(opts: NodeHeartbeatOptions) {
    this.#o = opts
    this.#events = opts.events ?? discardEvents
    this.#loop = new RepeatingTask(opts.timers, this.renewIntervalMs, () => this.#beat())
  }

  get renewIntervalMs(): number {
    return leaseRenewIntervalMs(this.#o.leaseDurationSeconds)
  }

  /** Renews the Lease and posts status once, then on every renew interval. */
  async start(): Promise<void> {
    const node = this.#o.api.get('nodes', '', this.#o.nodeName)
    if (node) this.#events.recordEvent(node, 'Starting', 'Starting kubelet.', 'Normal', 'Starting')
    await this.#loop.start()
  }

  /** Stops at once, as a crash would: the write in flight may still land, nothing after it. */
  stop(): void {
    this.#loop.stop()
  }

  async #beat(): Promise<void> {
    await beatNode(this.#o, this.#o.nodeName, this.#events, () => this.#loop.stopped).catch((e: unknown) =>
      this.#o.log?.(`kubelet ${this.#o.nodeName}: heartbeat: ${e instanceof Error ? e.message : String(e)}`))
  }
}

/** What a heartbeat reads: the API, the clock and the lease and report settings. */
export type HeartbeatSettings = Pick<NodeHeartbeatOptions, 'api' | 'clock' | 'leaseDurationSeconds' | 'statusReportMs'>

/** One node's beat: its Lease renewed, then its status posted when due (unless stopped in between). */
export async function beatNode(o: HeartbeatSettings, nodeName: string, events: EventRecorder, stopped: () => boolean = () => false): Promise<void> {
  await renewNodeLease(o.api, nodeName, o.clock.now(), o.leaseDurationSeconds ?? defaultLeaseDurationSeconds)
  if (stopped()) return
  await postNodeStatus(o.api, nodeName, o.clock.now(), o.statusReportMs ?? defaultStatusReportMs, events)
}

/** One Lease renewal: created the first time, updated after. */
export async function renewNodeLease(api: NodeApi, nodeName: string, nowMs: number, leaseDurationSeconds: number): Promise<void> {
  const existing = api.get('leases.coordination.k8s.io', nodeLeaseNamespace, nodeName)
  const lease = nodeLease(nodeName, api.get('nodes', '', nodeName), nowMs, leaseDurationSeconds, existing)
  if (existing) await api.client.update(resources.leases, lease)
  else await api.client.create(resources.leases, lease)
}

/** Posts the healthy conditions when due: Ready is not True (or not the kubelet's), or the last post is older than the report interval. */
export async function postNodeStatus(api: NodeApi, nodeName: string, nowMs: number, statusReportMs: number, events: EventRecorder): Promise<void> {
  const node = api.get('nodes', '', nodeName)
  if (!node) return
  const ready = readyOf(node)
  const heartbeat = ready?.lastHeartbeatTime ? Date.parse(ready.lastHeartbeatTime) : NaN
  const due = ready?.status !== 'True' || ready.reason !== 'KubeletReady' || !(nowMs - heartbeat < statusReportMs)
  if (!due) return
  const status = (node['status'] as Record<string, unknown> | undefined) ?? {}
  const previous = Array.isArray(status['conditions']) ? status['conditions'] as NodeCondition[] : []
  await api.client.updateStatus(resources.nodes, { ...node, status: { ...status, conditions: kubeletConditions(previous, nowMs) } })
  if (ready?.status !== 'True') events.recordEvent(node, 'NodeReady', `Node ${nodeName} status is now: NodeReady`, 'Normal', 'NodeReady')
}
