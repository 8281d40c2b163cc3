/**
 * The node lifecycle controller's decisions, as pure functions: when a Node was last heard from
 * (its Lease's renewTime or its Ready heartbeat), the conditions of a Node whose kubelet went
 * silent (Unknown, "Kubelet stopped posting node status."), the unreachable taints, a Pod marked
 * not ready, and when taint eviction removes a Pod (its NoExecute tolerations' tolerationSeconds).
 */
import type { Node, Pod, PodCondition, Taint } from '../api/index.js'
import { formatTimestamp } from '../api/index.js'
import { unreachableTaintKey } from './default-tolerations.js'
import { toleratesTaint, type Toleration } from './scheduling.js'

export const defaultNodeMonitorGracePeriodMs = 40_000

export interface NodeCondition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  reason?: string
  message?: string
  lastHeartbeatTime?: string
  lastTransitionTime?: string
  [key: string]: unknown
}

export interface LeaseLike {
  readonly spec?: { readonly renewTime?: string | null; readonly holderIdentity?: string }
}

/** The conditions a kubelet reports; the controller turns each Unknown when it goes silent. */
export const kubeletConditionTypes = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'] as const

function time(v: unknown): number {
  const t = typeof v === 'string' ? Date.parse(v) : NaN
  return Number.isFinite(t) ? t : -Infinity
}

export function conditionsOf(node: Node): NodeCondition[] {
  const c = node.status?.conditions
  return Array.isArray(c) ? (c as NodeCondition[]) : []
}

/** When the node's kubelet last showed it is alive: Lease renewal, Ready heartbeat, or creation. */
export function lastHeard(node: Node, lease: LeaseLike | undefined): number {
  const ready = conditionsOf(node).find((c) => c.type === 'Ready')
  return Math.max(time(lease?.spec?.renewTime), time(ready?.lastHeartbeatTime), time(node.metadata.creationTimestamp))
}

export function isSilent(node: Node, lease: LeaseLike | undefined, nowMs: number, graceMs: number): boolean {
  return nowMs - lastHeard(node, lease) > graceMs
}

export function readyStatus(node: Node): NodeCondition['status'] | undefined {
  return conditionsOf(node).find((c) => c.type === 'Ready')?.status
}

/** Every kubelet condition Unknown, keeping the last heartbeat: what `kubectl describe node` shows of a lost node. */
export function silentNodeConditions(conditions: readonly NodeCondition[], nowMs: number): NodeCondition[] {
  const now = formatTimestamp(nowMs)
  const out = conditions.filter((c) => !(kubeletConditionTypes as readonly string[]).includes(c.type))
  for (const type of kubeletConditionTypes) {
    const prev = conditions.find((c) => c.type === type)
    if (!prev) {
      out.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: now, lastTransitionTime: now })
      continue
    }
    out.push({
      ...prev, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.',
      lastTransitionTime: prev.status === 'Unknown' ? prev.lastTransitionTime ?? now : now,
    })
  }
  return out
}

export type NodeTaint = Taint & { timeAdded?: string }

function isUnreachable(t: NodeTaint): boolean {
  return t.key === unreachableTaintKey && (t.effect === 'NoSchedule' || t.effect === 'NoExecute')
}

/** The Node's taints with the unreachable pair added (silent) or removed (heard from). */
export function unreachableTaints(taints: readonly NodeTaint[], silent: boolean, nowMs: number): NodeTaint[] {
  const others = taints.filter((t) => !isUnreachable(t))
  if (!silent) return others
  const kept = taints.filter(isUnreachable)
  const noSchedule = kept.find((t) => t.effect === 'NoSchedule') ?? { key: unreachableTaintKey, effect: 'NoSchedule' }
  const noExecute = kept.find((t) => t.effect === 'NoExecute') ?? { key: unreachableTaintKey, effect: 'NoExecute', timeAdded: formatTimestamp(nowMs) }
  return [...others, noSchedule, noExecute]
}

/** The Pod with Ready=False (upstream MarkPodsNotReady), or undefined when it is not Ready=True. */
export function podMarkedNotReady(pod: Pod, nowMs: number): Pod | undefined {
  const conditions = pod.status?.conditions ?? []
  const ready = conditions.find((c) => c.type === 'Ready')
  if (!ready || ready.status !== 'True') return undefined
  const next = structuredClone(pod)
  next.status = {
    ...(next.status ?? {}),
    conditions: conditions.map((c): PodCondition => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: formatTimestamp(nowMs) } : c)),
  }
  return next
}

/**
 * When taint eviction deletes a Pod on a Node with these NoExecute taints (epoch ms), or
 * undefined when it stays: a taint it does not tolerate evicts at once, tolerations with
 * tolerationSeconds evict at the earliest expiry, counted from the taint's timeAdded.
 */
export function evictionAt(pod: Pod, taints: readonly NodeTaint[], nowMs: number): number | undefined {
  const tolerations = (Array.isArray(pod.spec.tolerations) ? pod.spec.tolerations : []) as (Toleration & { tolerationSeconds?: number })[]
  let at: number | undefined
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue
    const matching = tolerations.filter((t) => toleratesTaint(t, taint))
    if (matching.length === 0) return nowMs
    if (matching.some((t) => typeof t.tolerationSeconds !== 'number')) continue
    const seconds = Math.max(0, Math.min(...matching.map((t) => t.tolerationSeconds as number)))
    const added = time(taint.timeAdded)
    const due = (Number.isFinite(added) ? added : nowMs) + seconds * 1000
    at = at === undefined ? due : Math.min(at, due)
  }
  return at
}
