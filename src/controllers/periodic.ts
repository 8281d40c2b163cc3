/**
 * A task run every period on injected timers, never overlapping itself (the next run is timed
 * from the end of the last): the shell of the controllers that poll instead of watching (event
 * TTL sweep, node monitor). A failing run is the task's to report; the schedule goes on.
 */
import type { TimerHandle, Timers } from '../runtime/index.js'

export class Periodic {
  readonly #task: () => Promise<void>
  readonly #periodMs: number
  readonly #timers: Timers
  #timer: TimerHandle | undefined
  #stopped = false

  constructor(task: () => Promise<void>, periodMs: number, timers: Timers) {
    this.#task = task
    this.#periodMs = periodMs
    this.#timers = timers
  }

  start(): void {
    this.#schedule()
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer) this.#timers.clearTimeout(this.#timer)
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#timer = this.#timers.setTimeout(() => { void this.#task().catch(() => undefined).finally(() => this.#schedule()) }, this.#periodMs)
  }
}
