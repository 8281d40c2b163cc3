/**
 * Heartbeats of many lightweight nodes (kpe up --nodes, as KWOK's): one loop for all of them,
 * not a timer per node. Each round renews every Lease (upstream's 10 s of a 40 s lease) and
 * posts a Node's conditions when due (5 min), a bounded number of writes in flight at a time.
 */
import { discardEvents } from '../controllers/index.js'
import type { TimerHandle, Timers } from '../runtime/index.js'
import { defaultLeaseDurationSeconds, defaultStatusReportMs, postNodeStatus, renewNodeLease, type NodeApi } from './node-heartbeat.js'

export interface LightweightHeartbeatsOptions {
  readonly nodeNames: readonly string[]
  readonly api: NodeApi
  readonly timers: Timers
  readonly clock: { now(): number }
  readonly leaseDurationSeconds?: number
  readonly statusReportMs?: number
  /** Writes in flight at once; default 16, so a round never floods the API server. */
  readonly concurrency?: number
  readonly log?: (line: string) => void
}

export class LightweightNodeHeartbeats {
  readonly #o: LightweightHeartbeatsOptions
  #timer: TimerHandle | undefined
  #stopped = true
  #rounds = 0

  constructor(opts: LightweightHeartbeatsOptions) {
    this.#o = opts
  }

  get renewIntervalMs(): number {
    return (this.#o.leaseDurationSeconds ?? defaultLeaseDurationSeconds) * 250
  }

  /** Rounds completed so far. */
  get rounds(): number {
    return this.#rounds
  }

  /** Beats every node once (so each is Ready with a fresh Lease when this resolves), then on every renew interval. */
  async start(): Promise<void> {
    this.#stopped = false
    await this.#round()
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer) this.#o.timers.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  async #round(): Promise<void> {
    if (this.#stopped) return
    const names = this.#o.nodeNames
    let next = 0
    const worker = async (): Promise<void> => {
      while (!this.#stopped && next < names.length) await this.#beat(names[next++]!)
    }
    await Promise.all(Array.from({ length: Math.min(names.length, this.#o.concurrency ?? 16) }, worker))
    this.#rounds++
    if (this.#stopped) return
    this.#timer = this.#o.timers.setTimeout(() => void this.#round(), this.renewIntervalMs)
  }

  /** One node's renewal and status; a failure is logged and the next round tries again. */
  async #beat(name: string): Promise<void> {
    const now = this.#o.clock.now()
    try {
      await renewNodeLease(this.#o.api, name, now, this.#o.leaseDurationSeconds ?? defaultLeaseDurationSeconds)
      await postNodeStatus(this.#o.api, name, now, this.#o.statusReportMs ?? defaultStatusReportMs, discardEvents)
    } catch (e) {
      this.#o.log?.(`lightweight node ${name}: heartbeat: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
}
