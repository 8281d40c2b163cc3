/**
 * The DaemonSet controller's decision, pure (upstream pkg/controller/daemon): one Pod on every
 * Node the template fits (nodeSelector, taints against its tolerations plus the ones upstream
 * adds to every daemon Pod), none elsewhere, and a rolling update that replaces old-revision Pods
 * while at most maxUnavailable Nodes lack an available one.
 */
import { isPodReady, type Node, type Pod } from '../api/index.js'
import { scaledValue } from './deployment-rollout.js'
import { podFitsNode, type Toleration } from './scheduling.js'
import { controllerRevisionHashLabel } from './statefulset-plan.js'

/** upstream AddOrUpdateDaemonPodTolerations (network-unavailable only for hostNetwork Pods). */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  return [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
    ...(hostNetwork ? [{ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists' as const, effect: 'NoSchedule' }] : []),
  ]
}

export interface DaemonSetPlan {
  /** Node names to start a Pod on. */
  readonly create: readonly string[]
  readonly delete: readonly Pod[]
  readonly status: Record<string, unknown>
}

export interface DaemonSetInput {
  readonly generation: number
  /** The Pod the template makes, daemon tolerations included (to test Nodes against). */
  readonly templatePod: Pod
  readonly nodes: readonly Node[]
  readonly pods: readonly Pod[]
  readonly revision: string
  readonly rollingUpdate: boolean
  readonly maxUnavailable: number | string
}

const live = (p: Pod): boolean => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'

export function planDaemonSet(i: DaemonSetInput): DaemonSetPlan {
  const eligible = i.nodes.filter((n) => podFitsNode(i.templatePod, n)).map((n) => n.metadata.name ?? '')
  const wanted = new Set(eligible)
  const byNode = new Map<string, Pod[]>()
  for (const p of i.pods.filter(live)) byNode.set(p.spec.nodeName ?? '', [...(byNode.get(p.spec.nodeName ?? '') ?? []), p])
  const create: string[] = []
  const del: Pod[] = []
  const finished = i.pods.filter((p) => !p.metadata.deletionTimestamp && (p.status?.phase === 'Failed'))
  del.push(...finished) // a failed daemon Pod is replaced
  for (const node of eligible) {
    const here = (byNode.get(node) ?? []).sort((a, b) => ((a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : 1))
    if (here.length === 0 && !i.pods.some((p) => p.spec.nodeName === node && p.metadata.deletionTimestamp)) create.push(node)
    del.push(...here.slice(1))
  }
  const misscheduled = [...byNode.entries()].filter(([node]) => !wanted.has(node)).flatMap(([, ps]) => ps)
  del.push(...misscheduled)
  const current = eligible.map((n) => byNode.get(n)?.[0]).filter((p): p is Pod => p !== undefined)
  const available = current.filter(isPodReady)
  if (i.rollingUpdate) {
    const budget = scaledValue(i.maxUnavailable, eligible.length, true) - (eligible.length - available.length)
    const stale = current.filter((p) => p.metadata.labels?.[controllerRevisionHashLabel] !== i.revision)
      .sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)))
    // not-ready old Pods cost no availability; ready ones only within the budget
    const unready = stale.filter((p) => !isPodReady(p))
    del.push(...unready, ...stale.filter(isPodReady).slice(0, Math.max(0, budget)))
  }
  return {
    create, delete: [...new Set(del)],
    status: {
      currentNumberScheduled: current.length,
      numberMisscheduled: misscheduled.length,
      desiredNumberScheduled: eligible.length,
      numberReady: available.length,
      observedGeneration: i.generation,
      updatedNumberScheduled: current.filter((p) => p.metadata.labels?.[controllerRevisionHashLabel] === i.revision).length,
      numberAvailable: available.length,
      ...(eligible.length - available.length > 0 ? { numberUnavailable: eligible.length - available.length } : {}),
    },
  }
}
