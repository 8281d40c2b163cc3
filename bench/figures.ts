/** The figure format every benchmark prints: a value, its unit, and its baseline from the same run. */

export interface Figure {
  readonly name: string
  readonly value: number | null
  readonly unit: string
  /** What the value is compared with, measured in the same run (null when there is none). */
  readonly baseline: number | null
  readonly ratio: number | null
  readonly goal?: string
  readonly note?: string
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export function figure(name: string, value: number | null, unit: string, baseline: number | null, extra: { goal?: string; note?: string; ratio?: number | null } = {}): Figure {
  const ratio = extra.ratio !== undefined ? extra.ratio : value !== null && baseline !== null && baseline !== 0 ? value / baseline : null
  return { name, value, unit, baseline, ratio, ...(extra.goal ? { goal: extra.goal } : {}), ...(extra.note ? { note: extra.note } : {}) }
}

export function formatTable(figs: readonly Figure[]): string {
  const fmt = (v: number | null): string => (v === null ? '-' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3))
  const rows = figs.map((f) => [f.name, fmt(f.value), f.unit, fmt(f.baseline), fmt(f.ratio), f.goal ?? '', f.note ?? ''])
  const head = ['name', 'value', 'unit', 'baseline', 'ratio', 'goal', 'note']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n'
}
