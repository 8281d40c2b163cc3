/**
 * setTimeout/clearTimeout behind an interface, so loops (list+watch, proxier, probes) run on fake
 * timers in tests. realTimers unrefs its timers: a pending sync never keeps the process alive.
 */

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export type TimerHandle = { readonly id: unknown }

export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return { id: t }
  },
  clearTimeout(handle) {
    clearTimeout(handle.id as NodeJS.Timeout)
  },
}
