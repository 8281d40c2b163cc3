/** A settable Clock for interpreter tests, and the deterministic RandomSource they use. */
import type { Clock } from '../../src/runtime/index.js'

export { seededRandom } from '../../src/proxy/netfilter/index.js'

export class FakeClock implements Clock {
  #now: number
  constructor(start = 1_000_000) {
    this.#now = start
  }
  now(): number {
    return this.#now
  }
  advance(ms: number): void {
    this.#now += ms
  }
}
