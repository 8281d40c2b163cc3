/**
 * Reading one histogram family from Prometheus text (kpe up's /metrics): its buckets summed over
 * every label set, the difference between two scrapes, and quantiles interpolated within a
 * bucket as PromQL's histogram_quantile does. Pure; for the network programming bench.
 */

export interface ScrapedHistogram {
  /** Upper bounds ascending, +Inf last. */
  readonly le: readonly number[]
  /** Cumulative counts per bound. */
  readonly cumulative: readonly number[]
  readonly sum: number
  readonly count: number
}

const sample = /^(\w+?)(_bucket|_sum|_count)\{([^}]*)\} (\S+)$/

/** The family `name` summed over label sets; `only` keeps the label sets it accepts. */
export function scrapeHistogram(text: string, name: string, only: (labels: string) => boolean = () => true): ScrapedHistogram {
  const buckets = new Map<number, number>()
  let sum = 0
  let count = 0
  for (const line of text.split('\n')) {
    const m = sample.exec(line)
    if (!m || m[1] !== name) continue
    const labels = m[3]!.replace(/,?le="[^"]*"/, '')
    if (!only(labels)) continue
    const value = Number(m[4])
    if (m[2] === '_sum') sum += value
    else if (m[2] === '_count') count += value
    else {
      const le = /le="([^"]+)"/.exec(m[3]!)?.[1]
      const bound = le === '+Inf' ? Infinity : Number(le)
      buckets.set(bound, (buckets.get(bound) ?? 0) + value)
    }
  }
  const le = [...buckets.keys()].sort((a, b) => a - b)
  return { le, cumulative: le.map((b) => buckets.get(b)!), sum, count }
}

/** Observations made between two scrapes of the same family. */
export function histogramDelta(before: ScrapedHistogram, after: ScrapedHistogram): ScrapedHistogram {
  const at = new Map(before.le.map((b, i) => [b, before.cumulative[i]!]))
  return { le: after.le, cumulative: after.le.map((b, i) => after.cumulative[i]! - (at.get(b) ?? 0)), sum: after.sum - before.sum, count: after.count - before.count }
}

/** PromQL histogram_quantile: linear within the bucket the rank falls in; the last finite bound when it falls in +Inf. */
export function histogramQuantile(h: ScrapedHistogram, q: number): number | null {
  const total = h.cumulative[h.cumulative.length - 1] ?? 0
  if (total === 0) return null
  const rank = q * total
  const i = h.cumulative.findIndex((c) => c >= rank)
  const upper = h.le[i]!
  if (upper === Infinity) return h.le[h.le.length - 2] ?? null
  const lower = i === 0 ? 0 : h.le[i - 1]!
  const below = i === 0 ? 0 : h.cumulative[i - 1]!
  const inBucket = h.cumulative[i]! - below
  return inBucket === 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket)
}
