/**
 * A task that runs at start and again a fixed interval after each run ends, until stopped: the
 * loop of a kubelet's heartbeat and of the lightweight nodes' shared one. Runs never overlap, and
 * a stop during a run arms nothing after it.
 */
import type { TimerHandle, Timers } from './timers.js'

export class RepeatingTask {
  readonly #timers: Timers
  readonly #intervalMs: number
  readonly #run: () => Promise<void>
  #timer: TimerHandle | undefined
  #stopped = true

  /** `run` must not reject (a failing run logs and the next one tries again). */
  constructor(timers: Timers, intervalMs: number, run: () => Promise<void>) {
    this.#timers = timers
    this.#intervalMs = intervalMs
    this.#run = run
  }

  get stopped(): boolean {
    return this.#stopped
  }

  /** Runs once (resolving when that run ends), then every interval. */
  async start(): Promise<void> {
    this.#stopped = false
    await this.#tick()
  }

  /** Stops at once: a run in flight finishes, nothing after it. */
  stop(): void {
    this.#stopped = true
    if (this.#timer) this.#timers.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return
    await this.#run()
    if (this.#stopped) return
    this.#timer = this.#timers.setTimeout(() => void this.#tick(), this.#intervalMs)
  }
}
