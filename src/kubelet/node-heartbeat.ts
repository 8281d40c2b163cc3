/**
 * A kubelet's heartbeats: it renews its Node's Lease in kube-node-lease every renew interval
 * (10 s of a 40 s lease, as upstream) and posts the Node's conditions (MemoryPressure,
 * DiskPressure, PIDPressure False; Ready True) at start, every report interval (5 min) and
 * whenever the stored Ready is not True (the node lifecycle controller marked it Unknown).
 */
import { formatTimestamp } from '../api/index.js'
import { discardEvents, microTime, resources, type ControllerClient, type EventRecorder, type NodeCondition } from '../controllers/index.js'
import type { TimerHandle, Timers } from '../runtime/index.js'
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

export class NodeHeartbeat {
  readonly #o: NodeHeartbeatOptions
  readonly #events: EventRecorder
  #timer: TimerHandle | undefined
  #stopped = true
  #beating: Promise<void> = Promise.resolve()

  constructor(opts: NodeHeartbeatOptions) {
    this.#o = opts
    this.#events = opts.events ?? discardEvents
  }

  get renewIntervalMs(): number {
    return (this.#o.leaseDurationSeconds ?? defaultLeaseDurationSeconds) * 250
  }

  /** Renews the Lease and posts status once, then on every renew interval. */
  async start(): Promise<void> {
    this.#stopped = false
    const node = this.#o.api.get('nodes', '', this.#o.nodeName)
    if (node) this.#events.recordEvent(node, 'Starting', 'Starting kubelet.', 'Normal', 'Starting')
    await this.#beat()
  }

  /** Stops at once, as a crash would: the write in flight may still land, nothing after it. */
  stop(): void {
    this.#stopped = true
    if (this.#timer) this.#o.timers.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  async #beat(): Promise<void> {
    if (this.#stopped) return
    this.#beating = this.#renew().then(() => this.#postStatus()).catch((e: unknown) => this.#o.log?.(`kubelet ${this.#o.nodeName}: heartbeat: ${e instanceof Error ? e.message : String(e)}`))
    await this.#beating
    if (this.#stopped) return
    this.#timer = this.#o.timers.setTimeout(() => void this.#beat(), this.renewIntervalMs)
  }

  async #renew(): Promise<void> {
    await renewNodeLease(this.#o.api, this.#o.nodeName, this.#o.clock.now(), this.#o.leaseDurationSeconds ?? defaultLeaseDurationSeconds)
  }

  async #postStatus(): Promise<void> {
    if (this.#stopped) return
    await postNodeStatus(this.#o.api, this.#o.nodeName, this.#o.clock.now(), this.#o.statusReportMs ?? defaultStatusReportMs, this.#events)
  }
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
