/** Manually advanced timers implementing the kubelet's Timers interface, for loop tests. */
import type { TimerHandle, Timers } from '../../../src/runtime/index.js'

export class FakeTimers implements Timers {
  now = 0
  #next = 0
  readonly #due = new Map<number, { at: number; fn: () => void }>()

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++
    this.#due.set(id, { at: this.now + ms, fn })
    return { id }
  }

  clearTimeout(handle: TimerHandle): void {
    this.#due.delete(handle.id as number)
  }

  get pending(): number {
    return this.#due.size
  }

  /** Advances time, firing due timers in order; awaits microtasks between them. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms
    for (;;) {
      const next = [...this.#due.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0]
      if (!next) break
      this.#due.delete(next[0])
      this.now = next[1].at
      next[1].fn()
      await flush()
    }
    this.now = end
    await flush()
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}
