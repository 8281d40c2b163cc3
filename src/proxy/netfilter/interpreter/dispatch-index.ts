/**
 * Builds a chain's dispatch index: rules of the shape `-d HOST -p PROTO --dport PORT ...`
 * (kube-proxy's KUBE-SERVICES) are found by one Map lookup instead of a linear walk. A rule is
 * indexed only if it can match nothing but that key and every match before the key is free of
 * side effects, so indexed and linear walks evaluate exactly the same rules.
 */
import type { CompiledMatch, CompiledRule, DispatchIndex } from './compiled.js'
import { protoCodes } from './compiled.js'
import { hostKey } from './address.js'

interface RuleKey {
  readonly port: number
  readonly proto: number
  readonly dst: number | string
}

function isPure(m: CompiledMatch): boolean {
  return m.k !== 'random' && m.k !== 'nth' && m.k !== 'recent' && m.k !== 'unmodelled'
}

export function ruleKey(r: CompiledRule): RuleKey | undefined {
  let dst: number | string | undefined
  let proto: number | undefined
  let port: number | undefined
  for (const m of r.matches) {
    if (dst === undefined && m.k === 'addr' && m.side === 'dst' && !m.neg) dst = hostKey(m.test)
    else if (proto === undefined && m.k === 'proto' && !m.neg) proto = protoCodes[m.proto]
    else if (port === undefined && m.k === 'port' && m.side === 'dport' && !m.neg && m.from === m.to) port = m.from
    else if (!isPure(m)) return undefined
    if (dst !== undefined && proto !== undefined && port !== undefined) return { dst, proto, port }
  }
  return undefined
}

/** Undefined when fewer than `minRules` rules are indexable: a linear walk is as fast. */
export function buildDispatchIndex(rules: readonly CompiledRule[], minRules: number): DispatchIndex | undefined {
  const keyed = new Map<number, Map<number | string, number[]>>()
  const wildcard: number[] = []
  let indexed = 0
  rules.forEach((r, i) => {
    const k = ruleKey(r)
    if (!k) {
      wildcard.push(i)
      return
    }
    indexed++
    const slot = k.port * 4 + k.proto
    let byDst = keyed.get(slot)
    if (!byDst) keyed.set(slot, (byDst = new Map()))
    const list = byDst.get(k.dst)
    if (list) list.push(i)
    else byDst.set(k.dst, [i])
  })
  if (indexed < minRules) return undefined
  const byPort = new Map<number, Map<number | string, Int32Array>>()
  for (const [slot, byDst] of keyed) byPort.set(slot, new Map([...byDst].map(([d, l]) => [d, Int32Array.from(l)])))
  return { byPort, wildcard: Int32Array.from(wildcard) }
}
