/**
 * The admission seam for controllers: hooks run after defaulting and before validation, may
 * mutate the object (e.g. fill spec.clusterIP) and may add write ops (e.g. an IP allocation
 * record) that commit in the same store transaction as the object itself. A hook may also ask
 * to be told how the write ended (to release in-flight reservations), and a delete hook may turn
 * the deletion into an update (graceful deletion of pods).
 */
import type { KubeObject, ObjectStoreReader, WriteOp } from '../store/index.js'
import type { ResourceInfo } from '../api/index.js'

export interface AdmissionContext {
  readonly resource: ResourceInfo
  readonly subresource: string | undefined
  readonly store: ObjectStoreReader
  readonly dryRun: boolean
  /** Only on delete: the DeleteOptions the client sent. */
  readonly deleteOptions?: { readonly gracePeriodSeconds?: number }
}

/** How the write a hook admitted ended: stored, or rejected/failed/dry-run. */
export type AdmissionOutcome = 'committed' | 'aborted'

export interface AdmissionResult {
  /** Committed atomically with the object; a precondition failure rejects the whole request. */
  readonly extraOps?: readonly WriteOp[]
  /** Called exactly once, after the store transaction settled (or the request failed before it). */
  readonly onSettled?: (outcome: AdmissionOutcome) => void
  /** Delete only: store this object (an update of the old one) instead of deleting it. */
  readonly replaceDeletionWith?: KubeObject
}

/** Throw an ApiError (for example `invalid(...)`) to reject the request. */
export interface AdmissionHook {
  readonly name: string
  beforeCreate?(object: KubeObject, ctx: AdmissionContext): AdmissionResult | void | Promise<AdmissionResult | void>
  beforeUpdate?(object: KubeObject, old: KubeObject, ctx: AdmissionContext): AdmissionResult | void | Promise<AdmissionResult | void>
  beforeDelete?(old: KubeObject, ctx: AdmissionContext): AdmissionResult | void | Promise<AdmissionResult | void>
}

type Phase =
  | { readonly op: 'create'; readonly object: KubeObject }
  | { readonly op: 'update'; readonly object: KubeObject; readonly old: KubeObject }
  | { readonly op: 'delete'; readonly old: KubeObject }

export interface AdmissionRun {
  readonly extraOps: readonly WriteOp[]
  readonly replaceDeletionWith: KubeObject | undefined
  /** Tells every hook that asked how the write ended; idempotent. */
  settle(outcome: AdmissionOutcome): void
}

export async function runAdmissionHooks(hooks: readonly AdmissionHook[], phase: Phase, ctx: AdmissionContext): Promise<AdmissionRun> {
  const extra: WriteOp[] = []
  const listeners: ((o: AdmissionOutcome) => void)[] = []
  let replacement: KubeObject | undefined
  let settled = false
  const settle = (outcome: AdmissionOutcome): void => {
    if (settled) return
    settled = true
    for (const l of listeners) l(outcome)
  }
  try {
    for (const h of hooks) {
      const result = phase.op === 'create' ? await h.beforeCreate?.(phase.object, ctx)
        : phase.op === 'update' ? await h.beforeUpdate?.(phase.object, phase.old, ctx)
          : await h.beforeDelete?.(phase.old, ctx)
      if (result?.extraOps) extra.push(...result.extraOps)
      if (result?.onSettled) listeners.push(result.onSettled)
      if (result?.replaceDeletionWith) replacement = result.replaceDeletionWith
    }
  } catch (e) {
    settle('aborted')
    throw e
  }
  return { extraOps: extra, replaceDeletionWith: replacement, settle }
}
