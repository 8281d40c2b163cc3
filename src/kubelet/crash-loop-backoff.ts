/**
 * The kubelet's container restart back-off (flowcontrol.Backoff as kuberuntime uses it): the
 * first restart is immediate, then 10 s, doubling to 5 min between restarts; a container that
 * ran 10 min (twice the maximum) since its last restart starts over. Pure: times are passed in.
 */

export const initialBackOffMs = 10_000
export const maxBackOffMs = 300_000

/** A container's back-off entry: the current delay and when it was last stepped (a restart). */
export interface BackOffEntry {
  readonly delayMs: number
  readonly lastRestartAt: number
}

export interface RestartDecision {
  /** How long after `finishedAt` the container may start again (0: now). */
  readonly waitMs: number
  /** The entry to keep once that restart happens. */
  readonly next: BackOffEntry
}

/** What to do with a container that finished at `finishedAt`; the restart happens at finishedAt + waitMs. */
export function decideRestart(entry: BackOffEntry | undefined, finishedAt: number): RestartDecision {
  if (entry === undefined || finishedAt - entry.lastRestartAt > 2 * maxBackOffMs) {
    return { waitMs: 0, next: { delayMs: initialBackOffMs, lastRestartAt: finishedAt } }
  }
  const restartAt = finishedAt + entry.delayMs
  return { waitMs: entry.delayMs, next: { delayMs: Math.min(entry.delayMs * 2, maxBackOffMs), lastRestartAt: restartAt } }
}

/** The waiting message upstream shows with CrashLoopBackOff. */
export function backOffMessage(waitMs: number, container: string, pod: { namespace: string; name: string; uid: string }): string {
  return `back-off ${formatGoDuration(waitMs)} restarting failed container=${container} pod=${pod.name}_${pod.namespace}(${pod.uid})`
}

/** Go's time.Duration String for whole seconds: 10s, 1m20s, 5m0s. */
function formatGoDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`
}
