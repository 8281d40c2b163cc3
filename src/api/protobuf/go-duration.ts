/**
 * metav1.Duration's two forms: JSON holds Go's duration text ("1h30m0s"), protobuf holds
 * nanoseconds. Parsing and printing follow Go's time.ParseDuration and Duration.String.
 */
import { ProtobufConversionError } from './conversion-error.js'

const unitNanos: Readonly<Record<string, number>> = {
  ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
}

/** Nanoseconds of a Go duration string; throws naming the field when it is not one. */
export function parseGoDuration(text: string, field: string): number {
  const m = /^([-+]?)(.*)$/.exec(text)
  const sign = m?.[1] === '-' ? -1 : 1
  let rest = m?.[2] ?? ''
  if (rest === '0') return 0
  if (rest === '') throw new ProtobufConversionError(field, `time: invalid duration ${JSON.stringify(text)}`)
  let total = 0
  while (rest !== '') {
    const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/.exec(rest)
    if (!part) throw new ProtobufConversionError(field, `time: invalid duration ${JSON.stringify(text)}`)
    total += Number(part[1]) * (unitNanos[part[2] ?? ''] ?? 0)
    rest = rest.slice(part[0].length)
  }
  return sign * Math.round(total)
}

function trimFraction(value: number, digits: number): string {
  return value.toFixed(digits).replace(/\.?0+$/, '')
}

/** Go's Duration.String: "0s", "1.5µs", "2ms", "1h0m5s". */
export function formatGoDuration(nanos: number): string {
  if (nanos === 0) return '0s'
  const sign = nanos < 0 ? '-' : ''
  const n = Math.abs(nanos)
  if (n < 1e3) return `${sign}${n}ns`
  if (n < 1e6) return `${sign}${trimFraction(n / 1e3, 3)}µs`
  if (n < 1e9) return `${sign}${trimFraction(n / 1e6, 6)}ms`
  const h = Math.floor(n / 3600e9)
  const m = Math.floor((n % 3600e9) / 60e9)
  const s = trimFraction((n % 60e9) / 1e9, 9)
  if (h > 0) return `${sign}${h}h${m}m${s}s`
  if (m > 0) return `${sign}${m}m${s}s`
  return `${sign}${s}s`
}
