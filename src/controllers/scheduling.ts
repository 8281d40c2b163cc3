/**
 * The scheduler's decision for one Pod, as a pure function: filter Nodes (unschedulable,
 * nodeSelector, NoSchedule/NoExecute taints against tolerations), then spread: the Node with the
 * fewest Pods of the same controller wins (upstream's default PodTopologySpread over hostnames),
 * then the Node with the fewest Pods, its name breaking ties. The message on failure follows
 * kube-scheduler's "0/3 nodes are available: ..." shape.
 */
import type { Node, Pod, Taint } from '../api/index.js'

export interface Toleration {
  readonly key?: string
  readonly operator?: 'Exists' | 'Equal'
  readonly value?: string
  readonly effect?: string
}

export type ScheduleResult =
  | { readonly kind: 'scheduled'; readonly nodeName: string }
  | { readonly kind: 'unschedulable'; readonly message: string }

/** upstream v1helper.ToleratesTaint */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false
  if (t.key && t.key !== taint.key) return false
  if ((t.operator ?? 'Equal') === 'Exists') return true
  return (t.value ?? '') === (taint.value ?? '')
}

function tolerationsOf(pod: Pod): Toleration[] {
  return Array.isArray(pod.spec.tolerations) ? (pod.spec.tolerations as Toleration[]) : []
}

const unschedulableTaint: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }

type Rejection = 'selector' | 'taint' | 'unschedulable'

/** What the filters read of a Pod, taken once per decision rather than once per Node. */
interface PodFilterInput {
  readonly tolerations: readonly Toleration[]
  readonly nodeSelector: readonly (readonly [string, string])[]
}

function filterInputOf(pod: Pod): PodFilterInput {
  return { tolerations: tolerationsOf(pod), nodeSelector: Object.entries(pod.spec.nodeSelector ?? {}) }
}

function rejectionOf(pod: PodFilterInput, node: Node): Rejection | undefined {
  const tolerations = pod.tolerations
  if (node.spec?.unschedulable && !tolerations.some((t) => toleratesTaint(t, unschedulableTaint))) return 'unschedulable'
  for (const [k, v] of pod.nodeSelector) if (node.metadata.labels?.[k] !== v) return 'selector'
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule') continue
    if (!tolerations.some((t) => toleratesTaint(t, taint))) return 'taint'
  }
  return undefined
}

/** The filters alone, for a Pod bound by its controller (a DaemonSet's). */
export function podFitsNode(pod: Pod, node: Node): boolean {
  return rejectionOf(filterInputOf(pod), node) === undefined
}

const reasonText: Readonly<Record<Rejection, string>> = {
  selector: "node(s) didn't match Pod's node affinity/selector",
  taint: 'node(s) had untolerated taint(s)',
  unschedulable: 'node(s) were unschedulable',
}

/**
 * `podsPerNode` counts the non-terminating Pods bound to each Node, `siblingsPerNode` those of
 * them with the Pod's controller, so a ReplicaSet's replicas spread over Nodes whatever other
 * Pods were scheduled in between.
 */
export function schedulePod(pod: Pod, nodes: readonly Node[], podsPerNode: ReadonlyMap<string, number>, siblingsPerNode: ReadonlyMap<string, number> = new Map()): ScheduleResult {
  const input = filterInputOf(pod)
  const rejected = new Map<Rejection, number>()
  // The first fitting Node in (siblings, pods, name) order: one pass that reads each Node's counts
  // once, not a sort of every Node per Pod (1,000 nodes, 100,000 pods).
  let best: { name: string; siblings: number; count: number } | undefined
  for (const n of nodes) {
    const r = rejectionOf(input, n)
    if (r !== undefined) {
      rejected.set(r, (rejected.get(r) ?? 0) + 1)
      continue
    }
    const name = n.metadata.name ?? ''
    const siblings = siblingsPerNode.get(name) ?? 0
    const count = podsPerNode.get(name) ?? 0
    if (best === undefined || siblings < best.siblings || (siblings === best.siblings && (count < best.count || (count === best.count && name < best.name)))) {
      best = { name, siblings, count }
    }
  }
  if (best === undefined) {
    const parts = [...rejected.entries()].map(([r, count]) => `${count} ${reasonText[r]}`).sort()
    return { kind: 'unschedulable', message: `0/${nodes.length} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}.` }
  }
  return { kind: 'scheduled', nodeName: best.name }
}

function controllerUid(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller === true)?.uid
}

/** podsPerNode of the Pods `pod`'s controller owns (empty for a Pod without a controller). */
export function siblingsPerNode(pod: Pod, pods: readonly Pod[]): Map<string, number> {
  const uid = controllerUid(pod)
  return uid === undefined ? new Map() : podsPerNode(pods.filter((p) => controllerUid(p) === uid))
}

export function podsPerNode(pods: readonly Pod[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const p of pods) {
    if (!p.spec.nodeName || p.metadata.deletionTimestamp) continue
    const phase = p.status?.phase
    if (phase === 'Succeeded' || phase === 'Failed') continue
    out.set(p.spec.nodeName, (out.get(p.spec.nodeName) ?? 0) + 1)
  }
  return out
}
