/**
 * The DefaultTolerationSeconds admission plugin: a Pod created without a toleration for the
 * not-ready or unreachable NoExecute taint gets one with tolerationSeconds (default 300, kube-
 * apiserver's --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds),
 * so the taint eviction of a failed node's pods waits that long.
 */
import type { AdmissionHook } from '../apiserver/index.js'
import type { KubeObject } from '../store/index.js'
import type { Toleration } from './scheduling.js'

export const notReadyTaintKey = 'node.kubernetes.io/not-ready'
export const unreachableTaintKey = 'node.kubernetes.io/unreachable'
export const defaultTolerationSeconds = 300

export interface DefaultTolerations {
  readonly notReadySeconds?: number
  readonly unreachableSeconds?: number
}

function tolerates(tolerations: readonly Toleration[], key: string): boolean {
  // upstream: any toleration that could match the NoExecute taint of this key counts
  return tolerations.some((t) => (t.effect === undefined || t.effect === '' || t.effect === 'NoExecute') && (t.key === undefined || t.key === '' ? t.operator === 'Exists' : t.key === key))
}

/** The Pod spec's tolerations with the defaults added where the Pod has none of its own. */
export function withDefaultTolerations(existing: readonly unknown[] | undefined, d: DefaultTolerations = {}): unknown[] | undefined {
  const list = Array.isArray(existing) ? [...existing] : []
  const typed = list.filter((t): t is Toleration => typeof t === 'object' && t !== null)
  const added: unknown[] = []
  for (const [key, seconds] of [[notReadyTaintKey, d.notReadySeconds], [unreachableTaintKey, d.unreachableSeconds]] as const) {
    if (!tolerates(typed, key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds ?? defaultTolerationSeconds })
  }
  return added.length === 0 ? existing as unknown[] | undefined : [...list, ...added]
}

export function defaultTolerationSecondsHook(d: DefaultTolerations = {}): AdmissionHook {
  return {
    name: 'DefaultTolerationSeconds',
    beforeCreate: (o: KubeObject, ctx) => {
      if (ctx.resource.kind !== 'Pod' || ctx.subresource !== undefined) return
      const spec = o['spec'] as { tolerations?: unknown[] } | undefined
      if (typeof spec !== 'object' || spec === null || (spec.tolerations !== undefined && !Array.isArray(spec.tolerations))) return // validation names the field
      const next = withDefaultTolerations(spec.tolerations, d)
      if (next !== undefined) spec.tolerations = next
    },
  }
}
