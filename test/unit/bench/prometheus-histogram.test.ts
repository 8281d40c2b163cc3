/**
 * The bench's reading of a histogram family from /metrics: summed over label sets, differenced
 * between scrapes, and quantiles as PromQL's histogram_quantile interpolates them.
 */
import { describe, expect, it } from 'vitest'
import { histogramDelta, histogramQuantile, scrapeHistogram } from '../../../bench/prometheus-histogram.js'
import { Histogram, histogramLines } from '../../../src/proxy/proxier/index.js'

const family = (name: string, label: string, values: readonly number[]): string => {
  const h = new Histogram([0, 1, 2, 4])
  for (const v of values) h.observe(v)
  return histogramLines(name, label, h.snapshot()).join('\n')
}

describe('scraped histograms', () => {
  it('sum the label sets the filter keeps, and ignore other families', () => {
    const text = [family('x', 'node="a"', [0.5, 3]), family('x', 'node="(lightweight)"', [1.5]), family('y', 'node="a"', [9])].join('\n')
    const all = scrapeHistogram(text, 'x')
    expect(all).toEqual({ le: [0, 1, 2, 4, Infinity], cumulative: [0, 1, 2, 3, 3], sum: 5, count: 3 })
    expect(scrapeHistogram(text, 'x', (l) => l === 'node="a"').cumulative).toEqual([0, 1, 1, 2, 2])
  })

  it('difference two scrapes, and interpolate quantiles within a bucket', () => {
    const before = scrapeHistogram(family('x', 'node="a"', [3]), 'x')
    const after = scrapeHistogram(family('x', 'node="a"', [3, 0.5, 0.5, 1.5, 1.5]), 'x')
    const d = histogramDelta(before, after)
    expect(d).toEqual({ le: [0, 1, 2, 4, Infinity], cumulative: [0, 2, 4, 4, 4], sum: 4, count: 4 })
    expect(histogramQuantile(d, 0.5)).toBe(1)
    expect(histogramQuantile(d, 0.75)).toBe(1.5)
    expect(histogramQuantile(histogramDelta(after, after), 0.99)).toBeNull()
    // Past the last finite bound PromQL answers that bound.
    expect(histogramQuantile(scrapeHistogram(family('x', 'node="a"', [9]), 'x'), 0.99)).toBe(4)
  })
})
