/**
 * A pod's QoS class as upstream computes it (pkg/apis/core/helper/qos ComputePodQOS): BestEffort
 * without any CPU or memory request or limit; Guaranteed when every container limits both and
 * requests equal limits (a request left out defaults to its limit, as API defaulting does);
 * Burstable otherwise. Quantities compare by value ("1" equals "1000m"). Pure.
 */

export type PodQOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort'

const qosResources = ['cpu', 'memory'] as const

const suffixes: Record<string, [bigint, bigint]> = {
  // [multiplier, divisor] relative to one unit
  n: [1n, 1_000_000_000n], u: [1n, 1_000_000n], m: [1n, 1000n], '': [1n, 1n],
  k: [1000n, 1n], M: [10n ** 6n, 1n], G: [10n ** 9n, 1n], T: [10n ** 12n, 1n], P: [10n ** 15n, 1n], E: [10n ** 18n, 1n],
  Ki: [1n << 10n, 1n], Mi: [1n << 20n, 1n], Gi: [1n << 30n, 1n], Ti: [1n << 40n, 1n], Pi: [1n << 50n, 1n], Ei: [1n << 60n, 1n],
}

/** A quantity in nano-units (exact for everything but sub-nano fractions), or undefined when unreadable. */
export function quantityNanos(q: unknown): bigint | undefined {
  const text = typeof q === 'number' ? String(q) : typeof q === 'string' ? q.trim() : undefined
  const m = text === undefined ? null : /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(text)
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined
  const frac = (m[3] ?? '').slice(0, 18)
  let value = BigInt(`${m[2] || '0'}${frac}`) * 1_000_000_000n
  let divisor = 10n ** BigInt(frac.length)
  if (m[4] !== undefined) {
    const exp = Number(m[4])
    if (Math.abs(exp) > 30) return undefined
    if (exp >= 0) value *= 10n ** BigInt(exp)
    else divisor *= 10n ** BigInt(-exp)
  } else {
    const [mul, div] = suffixes[m[5] ?? '']!
    value *= mul
    divisor *= div
  }
  const nanos = value / divisor
  return m[1] === '-' ? -nanos : nanos
}

interface ResourceLists {
  readonly requests?: Readonly<Record<string, unknown>>
  readonly limits?: Readonly<Record<string, unknown>>
}

function resourcesOf(c: unknown): ResourceLists {
  const r = (c as { resources?: unknown } | null)?.resources
  return r !== null && typeof r === 'object' ? (r as ResourceLists) : {}
}

export function podQOSClass(spec: { readonly containers?: readonly unknown[]; readonly initContainers?: readonly unknown[] } | undefined): PodQOSClass {
  const requests = new Map<string, bigint>()
  const limits = new Map<string, bigint>()
  let isGuaranteed = true
  const add = (into: Map<string, bigint>, name: string, v: bigint): void => { into.set(name, (into.get(name) ?? 0n) + v) }
  const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : [])
  for (const c of [...list(spec?.containers), ...list(spec?.initContainers)]) {
    const r = resourcesOf(c)
    const found = new Set<string>()
    for (const name of qosResources) {
      const limit = quantityNanos(r.limits?.[name])
      const request = quantityNanos(r.requests?.[name]) ?? limit
      if (request !== undefined && request > 0n) add(requests, name, request)
      if (limit !== undefined && limit > 0n) {
        add(limits, name, limit)
        found.add(name)
      }
    }
    if (found.size < qosResources.length) isGuaranteed = false
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort'
  if (isGuaranteed && [...requests].every(([name, v]) => limits.get(name) === v) && requests.size === limits.size) return 'Guaranteed'
  return 'Burstable'
}
