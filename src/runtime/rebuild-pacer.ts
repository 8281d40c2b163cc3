/**
 * Paces a whole-state rebuild that runs after every change (the entry points' cluster index,
 * the DNS zone): at once while a rebuild is cheap (under `cheapMs`: a change is then visible
 * before the next request, as callers and tests expect), and while it is expensive only so often
 * that rebuilding takes at most `loadShare` of the time. At 100,000 pods a rebuild is tens of
 * milliseconds, and rebuilding on every pod event kept a core busy.
 */
import type { Clock } from './clock.js'
import type { TimerHandle, Timers } from './timers.js'

export class RebuildPacer {
  readonly #timers: Timers
  readonly #clock: Clock
  readonly #idleFactor: number
  readonly #cheapMs: number
  #lastMs = 0
  #timer: TimerHandle | undefined
  #stopped = false

  /**
   * `loadShare` in (0, 1]: the most of the time rebuilding may take (default a tenth), once a
   * rebuild takes `cheapMs` or more (default 10 ms).
   */
  constructor(timers: Timers, clock: Clock, loadShare = 0.1, cheapMs = 10) {
    this.#timers = timers
    this.#clock = clock
    this.#idleFactor = 1 / loadShare - 1
    this.#cheapMs = cheapMs
  }

  /** How long the next scheduled rebuild waits. */
  get delayMs(): number {
    return this.#lastMs < this.#cheapMs ? 0 : this.#lastMs * this.#idleFactor
  }

  /** Runs `rebuild` in a microtask, or after a delay in proportion to the last one's duration. */
  schedule(rebuild: () => void): void {
    if (this.#stopped) return
    const delay = this.delayMs
    if (delay < 1) {
      queueMicrotask(() => { if (!this.#stopped) rebuild() })
      return
    }
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined
      if (!this.#stopped) rebuild()
    }, delay)
  }

  /** Times one rebuild (its synchronous part), for the next delay. */
  measure<T>(build: () => T): T {
    const t = this.#clock.now()
    try {
      return build()
    } finally {
      this.#lastMs = Math.max(0, this.#clock.now() - t)
    }
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer) this.#timers.clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
