/**
 * Randomness as an injected value (the interpreter's statistic match, sampling): tests pass a
 * seeded source; mathRandomSource is the only place that reads Math.random.
 */

export interface RandomSource {
  /** A number in [0, 1). */
  next(): number
}

export const mathRandomSource: RandomSource = { next: () => Math.random() }
