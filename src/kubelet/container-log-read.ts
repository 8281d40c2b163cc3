/**
 * Reading a container log as the kubelet serves it (pkg/kubelet/kuberuntime/logs): the last
 * `tailLines` lines, then only those at or after `since`, each optionally prefixed with its
 * RFC3339Nano timestamp, the whole cut at `limitBytes`; with `follow`, new lines stream until the
 * instance ends or the reader is destroyed (its follower is removed then, so nothing leaks).
 */
import { Readable } from 'node:stream'
import type { ContainerLog, LogEntry } from './container-log.js'

export interface ContainerLogReadOptions {
  readonly follow: boolean
  readonly timestamps: boolean
  /** Only lines written at or after this time (ms since the epoch). */
  readonly sinceMs?: number
  readonly tailLines?: number
  readonly limitBytes?: number
}

/** Unread bytes a following reader may fall behind by before it is dropped. */
export const maxUnreadFollowBytes = 4 << 20

/** Which kept lines a read starts with: tail first, then the time filter (kubelet's order). */
export function selectLogEntries(entries: readonly LogEntry[], o: Pick<ContainerLogReadOptions, 'sinceMs' | 'tailLines'>): readonly LogEntry[] {
  const tail = o.tailLines === undefined ? entries : o.tailLines <= 0 ? [] : entries.slice(-o.tailLines)
  return o.sinceMs === undefined ? tail : tail.filter((e) => e.at >= o.sinceMs!)
}

/** kubelet's timeFormatOut: always nine fraction digits, UTC. */
export function logTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z`
}

export function formatLogEntry(e: LogEntry, timestamps: boolean): string {
  return timestamps ? `${logTimestamp(e.at)} ${e.text}` : e.text
}

/** A byte budget over the output (limitBytes); cuts where the budget runs out. */
class ByteBudget {
  #left: number
  constructor(limit: number | undefined) {
    this.#left = limit ?? Infinity
  }
  get spent(): boolean {
    return this.#left <= 0
  }
  take(text: string): Buffer {
    const buf = Buffer.from(text)
    const out = buf.byteLength <= this.#left ? buf : buf.subarray(0, this.#left)
    this.#left -= out.byteLength
    return out
  }
}

export function readContainerLog(log: ContainerLog, o: ContainerLogReadOptions): Readable {
  const budget = new ByteBudget(o.limitBytes)
  let unfollow = (): void => {}
  const out = new Readable({
    read() {},
    destroy(err, cb) {
      unfollow()
      cb(err)
    },
  })
  const emit = (e: LogEntry): void => {
    if (o.sinceMs !== undefined && e.at < o.sinceMs) return
    out.push(budget.take(formatLogEntry(e, o.timestamps)))
    if (budget.spent) finish()
    // A follower that does not read (a stalled client) is dropped rather than buffered without end.
    else if (out.readableLength > maxUnreadFollowBytes) out.destroy(new Error(`log follower fell more than ${maxUnreadFollowBytes} bytes behind`))
  }
  const finish = (): void => {
    unfollow()
    out.push(null)
  }
  for (const e of selectLogEntries(log.entries(), o)) {
    if (budget.spent) break
    out.push(budget.take(formatLogEntry(e, o.timestamps)))
  }
  if (!o.follow || budget.spent || log.ended) {
    out.push(null)
    return out
  }
  unfollow = log.follow({ entry: emit, end: finish })
  return out
}
