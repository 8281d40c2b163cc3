/**
 * A deterministic RandomSource (mulberry32) for reproducible sampling: tests and benchmarks
 * draw the same `statistic` branches on every run. Pure; the shell uses Math.random instead.
 */
import type { RandomSource } from './types.js'

export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0
      let t = a
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    },
  }
}
