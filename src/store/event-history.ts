/**
 * Bounded ring of recent store events, for watch replay from a resourceVersion. Knows the
 * oldest resourceVersion it can still replay from; older requests get 'Expired' (HTTP 410).
 */
import type { StoreEvent } from './types.js'

export class EventHistory {
  readonly #capacity: number
  #events: StoreEvent[] = []
  #head = 0
  /** Every event with resourceVersion > #complete is held. */
  #completeAfter: number

  constructor(capacity: number, startResourceVersion: number) {
    this.#capacity = Math.max(1, capacity)
    this.#completeAfter = startResourceVersion
  }

  get oldestReplayable(): number {
    return this.#completeAfter
  }

  push(ev: StoreEvent): void {
    if (this.#events.length - this.#head >= this.#capacity) {
      const dropped = this.#events[this.#head]
      this.#head++
      if (dropped) this.#completeAfter = dropped.resourceVersion
      if (this.#head > this.#capacity) {
        this.#events = this.#events.slice(this.#head)
        this.#head = 0
      }
    }
    this.#events.push(ev)
  }

  canReplayFrom(rv: number): boolean {
    return rv >= this.#completeAfter
  }

  /** Events with resourceVersion > rv, oldest first. Call canReplayFrom first. */
  since(rv: number): StoreEvent[] {
    const out: StoreEvent[] = []
    for (let i = this.#head; i < this.#events.length; i++) {
      const ev = this.#events[i]
      if (ev && ev.resourceVersion > rv) out.push(ev)
    }
    return out
  }
}
