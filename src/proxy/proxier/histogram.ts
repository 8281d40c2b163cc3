/**
 * A cumulative Prometheus histogram (fixed upper bounds, counts since start, sum) and its text
 * form, for kube-proxy's *_seconds histograms. Counts grow for the life of the process, as a
 * Prometheus client's do, so rate() and histogram_quantile() over scrapes work.
 */

/**
 * Upstream kubeproxy_network_programming_duration_seconds buckets (pkg/proxy/metrics): 0, then
 * 0.25 s and 0.5 s, every second to 59 s, every 5 s to 115 s, every 30 s to 5 min.
 */
export const networkProgrammingBucketsSeconds: readonly number[] = [
  0, 0.25, 0.5,
  ...Array.from({ length: 59 }, (_, i) => i + 1),
  ...Array.from({ length: 12 }, (_, i) => 60 + 5 * i),
  ...Array.from({ length: 7 }, (_, i) => 120 + 30 * i),
]

/** Bucket counts of one histogram, as rendered: counts[i] holds the observations <= buckets[i] and above the bucket before. */
export interface HistogramSnapshot {
  readonly buckets: readonly number[]
  readonly counts: readonly number[]
  readonly count: number
  readonly sum: number
}

export class Histogram {
  readonly #buckets: readonly number[]
  readonly #counts: number[]
  #count = 0
  #sum = 0

  /** `buckets`: ascending upper bounds; +Inf is implied. */
  constructor(buckets: readonly number[]) {
    this.#buckets = buckets
    this.#counts = buckets.map(() => 0)
  }

  /** One value, or `times` equal values (several nodes programmed by one shared sync). */
  observe(value: number, times = 1): void {
    if (!Number.isFinite(value) || times <= 0) return
    const i = this.#buckets.findIndex((b) => value <= b)
    if (i >= 0) this.#counts[i]! += times
    this.#count += times
    this.#sum += value * times
  }

  snapshot(): HistogramSnapshot {
    return { buckets: this.#buckets, counts: [...this.#counts], count: this.#count, sum: this.#sum }
  }
}

/** The snapshot of plain values, for a histogram computed from a window of them. */
export function histogramOf(buckets: readonly number[], values: readonly number[]): HistogramSnapshot {
  const h = new Histogram(buckets)
  for (const v of values) h.observe(v)
  return h.snapshot()
}

/** The `_bucket` (cumulative, then +Inf), `_sum` and `_count` lines of one labelled histogram. */
export function histogramLines(name: string, label: string, h: HistogramSnapshot): string[] {
  const lines: string[] = []
  let cumulative = 0
  h.buckets.forEach((b, i) => {
    cumulative += h.counts[i]!
    lines.push(`${name}_bucket{${label},le="${b}"} ${cumulative}`)
  })
  lines.push(`${name}_bucket{${label},le="+Inf"} ${h.count}`, `${name}_sum{${label}} ${h.sum}`, `${name}_count{${label}} ${h.count}`)
  return lines
}
