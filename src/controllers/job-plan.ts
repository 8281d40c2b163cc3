/**
 * The Job controller's decision, pure (upstream pkg/controller/job, NonIndexed completion mode):
 * how many Pods to start for completions and parallelism, when backoffLimit is exceeded, and the
 * status with the SuccessCriteriaMet/Complete or FailureTarget/Failed conditions kubectl waits on.
 */
import { isPodReady, type Pod } from '../api/index.js'

type Obj = Record<string, unknown>

export interface JobCondition {
  readonly type: string
  readonly status: 'True' | 'False'
  readonly reason?: string
  readonly message?: string
  readonly lastProbeTime: string
  readonly lastTransitionTime: string
}

export interface JobLike {
  readonly metadata: { readonly generation?: number }
  readonly spec?: { readonly completions?: number | null; readonly parallelism?: number; readonly backoffLimit?: number; readonly suspend?: boolean }
  readonly status?: Obj
}

export interface JobPlan {
  readonly create: number
  readonly delete: readonly Pod[]
  readonly status: Obj
}

function conditionsOf(job: JobLike): JobCondition[] {
  const c = job.status?.['conditions']
  return Array.isArray(c) ? (c as JobCondition[]) : []
}

export function jobFinished(job: JobLike): 'Complete' | 'Failed' | undefined {
  const done = conditionsOf(job).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')
  return done?.type as 'Complete' | 'Failed' | undefined
}

function condition(type: string, reason: string, message: string, now: string): JobCondition {
  return { type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now }
}

/**
 * Container restarts of the running `restartPolicy: OnFailure` Pods, which the kubelet restarts in
 * place: upstream counts them against backoffLimit (pastBackoffLimitOnFailure).
 */
function pastBackoffLimitOnFailure(active: readonly Pod[], backoffLimit: number): boolean {
  const restarts = active
    .filter((p) => p.spec.restartPolicy === 'OnFailure')
    .reduce((n, p) => n + ((p.status?.containerStatuses ?? []) as { restartCount?: number }[]).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0)
  return backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit
}

export function planJob(job: JobLike, pods: readonly Pod[], now: string): JobPlan {
  const active = pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
  const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length
  const failed = pods.filter((p) => p.status?.phase === 'Failed').length
  const parallelism = job.spec?.parallelism ?? 1
  const completions = job.spec?.completions ?? undefined
  const backoffLimit = job.spec?.backoffLimit ?? 6
  const previous = job.status ?? {}
  const conditions = [...conditionsOf(job)]
  let finished = jobFinished(job)
  let create = 0
  if (!finished) {
    if (failed > backoffLimit || pastBackoffLimitOnFailure(active, backoffLimit)) {
      finished = 'Failed'
      conditions.push(condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now), condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now))
    } else if (completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0) {
      finished = 'Complete'
      conditions.push(condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', now), condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now))
    } else if (!job.spec?.suspend) {
      // without completions, the first success means no new Pods: the rest only finish
      const want = completions !== undefined ? Math.min(parallelism, completions - succeeded) : succeeded > 0 ? 0 : parallelism
      create = Math.max(0, want - active.length)
    }
  }
  const stop = finished !== undefined || job.spec?.suspend === true
  const status: Obj = {
    ...(previous['startTime'] ? { startTime: previous['startTime'] } : job.spec?.suspend ? {} : { startTime: now }),
    ...(stop || active.length === 0 ? {} : { active: active.length }),
    ...(succeeded > 0 ? { succeeded } : {}),
    ...(failed > 0 ? { failed } : {}),
    ready: stop ? 0 : active.filter(isPodReady).length,
    terminating: pods.filter((p) => p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length,
    ...(conditions.length > 0 ? { conditions } : {}),
    ...(finished === 'Complete' ? { completionTime: previous['completionTime'] ?? now } : {}),
    uncountedTerminatedPods: {},
    observedGeneration: job.metadata.generation ?? 1,
  }
  return { create, delete: stop ? active : [], status }
}
