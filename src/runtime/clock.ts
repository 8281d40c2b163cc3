/**
 * Time as an injected value: everything that stamps or expires reads a Clock, so tests run on a
 * fake one. systemClock is the only place that reads the wall clock.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
