/**
 * Graceful pod deletion, as kube-apiserver's pod strategy does it: a DELETE of a scheduled,
 * unfinished Pod sets metadata.deletionTimestamp (now + grace period, the moment it should be
 * gone) and deletionGracePeriodSeconds instead of removing it; grace 0, an unscheduled Pod or a
 * finished one is removed at once. The Pod is then a terminating endpoint until a kubelet (or
 * the grace-period expiry in pod-terminator.ts) deletes it for good.
 */
import type { Pod } from '../api/index.js'
import { formatTimestamp } from '../api/index.js'
import type { AdmissionHook } from '../apiserver/index.js'
import type { Clock } from '../runtime/index.js'
import type { KubeObject } from '../store/index.js'

export const defaultTerminationGracePeriodSeconds = 30

export type PodDeletion =
  | { readonly kind: 'now' }
  | { readonly kind: 'graceful'; readonly pod: Pod }

/** The grace period a DELETE asks for, after upstream's CheckGracefulDelete. */
export function effectiveGracePeriod(pod: Pod, requested: number | undefined): number {
  const phase = pod.status?.phase
  if (!pod.spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0
  return Math.max(0, requested ?? pod.spec.terminationGracePeriodSeconds ?? defaultTerminationGracePeriodSeconds)
}

export function planPodDeletion(pod: Pod, requested: number | undefined, nowMs: number): PodDeletion {
  const grace = effectiveGracePeriod(pod, requested)
  if (grace === 0) return { kind: 'now' }
  const deadline = nowMs + grace * 1000
  const current = pod.metadata.deletionTimestamp ? Date.parse(pod.metadata.deletionTimestamp) : undefined
  // a second DELETE may only shorten the grace period
  if (current !== undefined && current <= deadline) return { kind: 'graceful', pod }
  const next = structuredClone(pod)
  next.metadata.deletionTimestamp = formatTimestamp(deadline)
  next.metadata.deletionGracePeriodSeconds = grace
  return { kind: 'graceful', pod: next }
}

/** When a terminating Pod's grace period is over (epoch ms), or undefined when it is not terminating. */
export function gracePeriodEnd(pod: Pod): number | undefined {
  return pod.metadata.deletionTimestamp ? Date.parse(pod.metadata.deletionTimestamp) : undefined
}

export function gracefulDeletionHook(clock: Clock): AdmissionHook {
  return {
    name: 'kpe.io/graceful-pod-deletion',
    beforeDelete: (old, ctx) => {
      if (ctx.resource.kind !== 'Pod') return undefined
      const plan = planPodDeletion(old as unknown as Pod, ctx.deleteOptions?.gracePeriodSeconds, clock.now())
      return plan.kind === 'now' ? undefined : { replaceDeletionWith: plan.pod as unknown as KubeObject }
    },
  }
}
