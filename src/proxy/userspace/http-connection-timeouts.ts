/**
 * The forward proxy's timeouts for one client connection, in coarse ticks instead of a timer
 * re-armed on every read: a late head (headerTimeoutMs), a quiet busy connection (idleTimeoutMs),
 * an idle keep-alive one (5 s). Pure: the caller owns the interval and says what is going on.
 */
import type { UserspaceLimits } from './cluster-dataplane.js'

/** How long an idle keep-alive client connection stays open (node:http's default). */
export const keepAliveMs = 5_000

/** What the connection is doing at a tick. */
export interface ConnectionActivity {
  /** Bytes of a request head are waiting for the rest of it (and nothing else holds them back). */
  readonly isPartialHead: boolean
  /** A request or response is under way, waits, or the connection is a tunnel. */
  readonly isBusy: boolean
}

/** 'request-timeout': answer 408 and close; 'destroy': close without an answer (one may be under way). */
export type TimeoutVerdict = 'none' | 'request-timeout' | 'destroy'

export class ConnectionTimeouts {
  readonly #limits: Pick<UserspaceLimits, 'headerTimeoutMs' | 'idleTimeoutMs'>
  /** Half the shortest timeout, at most a second: a timeout fires up to one tick late. */
  readonly tickMs: number
  #isActive = true
  #quietTicks = 0
  #headTicks = 0

  constructor(limits: Pick<UserspaceLimits, 'headerTimeoutMs' | 'idleTimeoutMs'>) {
    this.#limits = limits
    this.tickMs = Math.max(1, Math.min(1000, limits.headerTimeoutMs / 2, limits.idleTimeoutMs / 2))
  }

  /** A byte moved, either way. */
  sawActivity(): void {
    this.#isActive = true
  }

  /** A whole request head arrived: the header timeout starts again with the next one. */
  sawHead(): void {
    this.#headTicks = 0
  }

  tick(now: ConnectionActivity): TimeoutVerdict {
    if (this.#isActive) {
      this.#isActive = false
      this.#quietTicks = 0
    } else this.#quietTicks++
    this.#headTicks = now.isPartialHead ? this.#headTicks + 1 : 0
    if (now.isPartialHead && this.#headTicks * this.tickMs >= this.#limits.headerTimeoutMs) return now.isBusy ? 'destroy' : 'request-timeout'
    const quietMs = this.#quietTicks * this.tickMs
    const isTimedOut = now.isBusy ? quietMs >= this.#limits.idleTimeoutMs : !now.isPartialHead && quietMs >= keepAliveMs
    return isTimedOut ? 'destroy' : 'none'
  }
}
