/**
 * Heartbeats of many lightweight nodes (kpe up --nodes, as KWOK's): one loop for all of them,
 * not a timer per node. Each round renews every Lease (upstream's 10 s of a 40 s lease) and
 * posts a Node's conditions when due (5 min), a bounded number of writes in flight at a time.
 * Each node's beat is the kubelet heartbeat's own (beatNode), on the same RepeatingTask loop.
 */
import { discardEvents } from '../controllers/index.js'
import { RepeatingTask } from '../runtime/index.js'
import { beatNode, leaseRenewIntervalMs, type NodeHeartbeatOptions } from './node-heartbeat.js'

/** A kubelet heartbeat's options for many nodes at once; their events are not recorded. */
export interface LightweightHeartbeatsOptions extends Omit<NodeHeartbeatOptions, 'nodeName' | 'events'> {
  readonly nodeNames: readonly string[]
  /** Writes in flight at once; default 16, so a round never floods the API server. */
  readonly concurrency?: number
}

export class LightweightNodeHeartbeats {
  readonly #o: LightweightHeartbeatsOptions
  readonly #loop: RepeatingTask
  #rounds = 0

  constructor(opts: LightweightHeartbeatsOptions) {
    this.#o = opts
    this.#loop = new RepeatingTask(opts.timers, this.renewIntervalMs, () => this.#round())
  }

  get renewIntervalMs(): number {
    return leaseRenewIntervalMs(this.#o.leaseDurationSeconds)
  }

  /** Rounds completed so far. */
  get rounds(): number {
    return this.#rounds
  }

  /** Beats every node once (so each is Ready with a fresh Lease when this resolves), then on every renew interval. */
  async start(): Promise<void> {
    await this.#loop.start()
  }

  stop(): void {
    this.#loop.stop()
  }

  async #round(): Promise<void> {
    const names = this.#o.nodeNames
    let next = 0
    const worker = async (): Promise<void> => {
      while (!this.#loop.stopped && next < names.length) await this.#beat(names[next++]!)
    }
    await Promise.all(Array.from({ length: Math.min(names.length, this.#o.concurrency ?? 16) }, worker))
    this.#rounds++
  }

  /** One node's renewal and status; a failure is logged and the next round tries again. */
  async #beat(name: string): Promise<void> {
    try {
      await beatNode(this.#o, name, discardEvents)
    } catch (e) {
      this.#o.log?.(`lightweight node ${name}: heartbeat: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
}
