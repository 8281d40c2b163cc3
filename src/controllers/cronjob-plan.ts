/**
 * The CronJob controller's decision, pure (upstream pkg/controller/cronjob, v2): the most recent
 * schedule time missed since the last run (on the cluster clock, in spec.timeZone), whether
 * concurrencyPolicy and startingDeadlineSeconds let it start, which finished Jobs fall outside the
 * history limits, and when to look again. Schedules are read by cron-parser (standard five
 * fields or an @-descriptor, as upstream's robfig/cron parser takes them).
 */
import { CronExpressionParser } from 'cron-parser'
import { formatTimestamp } from '../api/index.js'
import type { KubeObject } from '../store/index.js'
import { jobFinished, type JobLike } from './job-plan.js'

type Obj = Record<string, unknown>

export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp'

export interface CronJobPlan {
  /** A Job to start for this schedule time (epoch ms). */
  readonly start?: { readonly name: string; readonly scheduledMs: number }
  /** Active Jobs to delete first (concurrencyPolicy Replace). */
  readonly replace: readonly KubeObject[]
  /** Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest first. */
  readonly prune: readonly KubeObject[]
  readonly status: Obj
  /** When the next schedule time comes (ms from now). */
  readonly nextMs?: number
  /** Why nothing could be planned (an unparsable schedule). */
  readonly error?: string
}

export interface CronSchedule {
  /** The latest schedule time <= now and after `since`, if any. */
  mostRecent(sinceMs: number, nowMs: number): number | undefined
  next(nowMs: number): number
}

/** Throws with the parser's message when the schedule is not a cron expression kubectl would accept. */
export function parseSchedule(schedule: string, timeZone: string | undefined): CronSchedule {
  let expr = schedule.trim()
  let tz = timeZone
  const prefix = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(expr)
  if (prefix) {
    tz = prefix[1]
    expr = prefix[2]!
  }
  if (!expr.startsWith('@') && expr.split(/\s+/).length !== 5) throw new Error(`expected exactly 5 fields, found ${expr.split(/\s+/).length}: ${expr}`)
  const at = (ms: number) => CronExpressionParser.parse(expr, { currentDate: new Date(ms), ...(tz ? { tz } : {}) })
  at(0).next() // a bad expression or time zone fails here, where the caller reports it
  return {
    mostRecent(sinceMs, nowMs) {
      // cron-parser's prev() is strictly before its current date: look from just after now
      const t = at(nowMs + 1).prev().getTime()
      return t > sinceMs ? t : undefined
    },
    next: (nowMs) => at(nowMs).next().getTime(),
  }
}

/** upstream getJobName: <cronjob>-<scheduled time in minutes since the epoch>. */
export function jobNameFor(cronJob: string, scheduledMs: number): string {
  return `${cronJob}-${Math.floor(scheduledMs / 60_000)}`
}

function ref(j: KubeObject): Obj {
  return { kind: 'Job', namespace: j.metadata.namespace, name: j.metadata.name, uid: j.metadata.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata.resourceVersion }
}

function scheduledOf(j: KubeObject): number {
  const a = j.metadata.annotations?.[scheduledTimestampAnnotation]
  const t = a ? Date.parse(a) : NaN
  return Number.isFinite(t) ? t : Date.parse(j.metadata.creationTimestamp ?? '') || 0
}

export function planCronJob(cj: KubeObject, jobs: readonly KubeObject[], nowMs: number): CronJobPlan {
  const spec = (cj['spec'] as Obj | undefined) ?? {}
  const status = (cj['status'] as Obj | undefined) ?? {}
  const active = jobs.filter((j) => !j.metadata.deletionTimestamp && !jobFinished(j as unknown as JobLike))
  const finished = jobs.filter((j) => jobFinished(j as unknown as JobLike))
  const successful = finished.filter((j) => jobFinished(j as unknown as JobLike) === 'Complete').sort((a, b) => scheduledOf(a) - scheduledOf(b))
  const failed = finished.filter((j) => jobFinished(j as unknown as JobLike) === 'Failed').sort((a, b) => scheduledOf(a) - scheduledOf(b))
  const keep = (list: KubeObject[], limit: unknown): KubeObject[] => list.slice(0, Math.max(0, list.length - (typeof limit === 'number' ? limit : list.length)))
  const prune = [...keep(successful, spec['successfulJobsHistoryLimit'] ?? 3), ...keep(failed, spec['failedJobsHistoryLimit'] ?? 1)]
  const lastSuccess = successful.at(-1)
  const completed = Date.parse(((lastSuccess?.['status'] as Obj | undefined)?.['completionTime'] as string | undefined) ?? '')
  const lastSuccessfulTime = Number.isFinite(completed) ? formatTimestamp(completed) : status['lastSuccessfulTime']
  const baseStatus: Obj = {
    ...(active.length > 0 ? { active: active.map(ref) } : {}),
    ...(status['lastScheduleTime'] ? { lastScheduleTime: status['lastScheduleTime'] } : {}),
    ...(lastSuccessfulTime ? { lastSuccessfulTime } : {}),
  }
  let schedule: CronSchedule
  try {
    schedule = parseSchedule(String(spec['schedule'] ?? ''), typeof spec['timeZone'] === 'string' ? spec['timeZone'] : undefined)
  } catch (e) {
    return { replace: [], prune, status: baseStatus, error: `unparseable schedule ${JSON.stringify(spec['schedule'])}: ${e instanceof Error ? e.message : String(e)}` }
  }
  const since = Date.parse(String(status['lastScheduleTime'] ?? cj.metadata.creationTimestamp ?? '')) || nowMs
  const nextMs = Math.max(0, schedule.next(nowMs) - nowMs) + 1
  const due = schedule.mostRecent(since, nowMs)
  if (due === undefined || spec['suspend'] === true) return { replace: [], prune, status: baseStatus, nextMs }
  const deadline = spec['startingDeadlineSeconds']
  const tooLate = typeof deadline === 'number' && nowMs - due > deadline * 1000
  const name = jobNameFor(cj.metadata.name ?? '', due)
  const policy = spec['concurrencyPolicy'] ?? 'Allow'
  // Forbid skips this run (and tries again at the next time); a missed deadline skips it for good
  if (tooLate || (policy === 'Forbid' && active.length > 0) || jobs.some((j) => j.metadata.name === name)) {
    return { replace: [], prune, status: tooLate ? { ...baseStatus, lastScheduleTime: formatTimestamp(due) } : baseStatus, nextMs }
  }
  return {
    start: { name, scheduledMs: due }, replace: policy === 'Replace' ? active : [], prune,
    status: { ...baseStatus, lastScheduleTime: formatTimestamp(due) }, nextMs,
  }
}
