/**
 * What a change did to a node's rules, grouped by the Service each rule belongs to. Works on
 * any two RuleTables: rules are compared as text per chain, in order, and attributed to a
 * Service port by the caller's lookup (typed origins for built tables, comments for dumps).
 */
import { renderRuleArgs, type Chain, type RuleTable } from '../netfilter/index.js'
import { isServiceChain } from './chains.js'
import type { ServicePortOf } from './rule-origin.js'

export interface RuleChange {
  readonly sign: '-' | '+'
  readonly table: string
  readonly chain: string
  readonly text: string
}

export interface ServiceRuleDiff {
  /** `ns/name:port` (upstream ServicePortName.String), or "(node-wide)". */
  readonly service: string
  readonly changes: readonly RuleChange[]
}

/** Per-service chains (SVC/SEP/EXT/...) belong wholly to the Service port of their rules. */
function chainOwner(chain: Chain | undefined, servicePortOf: ServicePortOf): string | undefined {
  if (!chain || !isServiceChain(chain.name)) return undefined
  for (const r of chain.rules) {
    const svc = servicePortOf(r)
    if (svc) return svc
  }
  return undefined
}

export type DiffLine = { sign: '-' | '+' | ' '; text: string }

/** Common prefix and suffix kept as context; the middle diffed by LCS (or replaced wholesale when huge). */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  let pre = 0
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++
  let suf = 0
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++
  const midA = a.slice(pre, a.length - suf)
  const midB = b.slice(pre, b.length - suf)
  const middle: DiffLine[] = midA.length * midB.length > 4_000_000
    ? [...midA.map((text): DiffLine => ({ sign: '-', text })), ...midB.map((text): DiffLine => ({ sign: '+', text }))]
    : lcsDiff(midA, midB)
  return [...a.slice(0, pre).map((text): DiffLine => ({ sign: ' ', text })), ...middle, ...a.slice(a.length - suf).map((text): DiffLine => ({ sign: ' ', text }))]
}

/** Longest-common-subsequence diff of two rule lists. */
function lcsDiff(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length
  const m = b.length
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
  const out: DiffLine[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ sign: ' ', text: a[i]! })
      i++
      j++
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) out.push({ sign: '+', text: b[j++]! })
    else out.push({ sign: '-', text: a[i++]! })
  }
  return out
}

/** `before` and `after` with the lookups that name each side's rules' Service ports. */
export function diffRuleTables(before: RuleTable, after: RuleTable, servicePortOf: { readonly before: ServicePortOf; readonly after: ServicePortOf }): ServiceRuleDiff[] {
  const groups = new Map<string, RuleChange[]>()
  const add = (service: string, change: RuleChange): void => {
    const list = groups.get(service) ?? []
    list.push(change)
    groups.set(service, list)
  }
  const tableNames = [...new Set([...before.tables, ...after.tables].map((t) => t.name))]
  for (const tn of tableNames) {
    const a = new Map((before.tables.find((t) => t.name === tn)?.chains ?? []).map((c) => [c.name as string, c]))
    const b = new Map((after.tables.find((t) => t.name === tn)?.chains ?? []).map((c) => [c.name as string, c]))
    for (const name of [...new Set([...a.keys(), ...b.keys()])]) {
      const ca = a.get(name)
      const cb = b.get(name)
      const owner = chainOwner(cb, servicePortOf.after) ?? chainOwner(ca, servicePortOf.before)
      const texts = (c: Chain | undefined): string[] => (c?.rules ?? []).map((r) => `-A ${name}${renderRuleArgs(r)}`)
      const rulesA = ca?.rules ?? []
      const rulesB = cb?.rules ?? []
      const lines = diffLines(texts(ca), texts(cb))
      let ia = 0
      let ib = 0
      for (const l of lines) {
        const rule = l.sign === '+' ? rulesB[ib] : rulesA[ia]
        if (l.sign !== '+') ia++
        if (l.sign !== '-') ib++
        if (l.sign === ' ') continue
        const service = owner ?? (l.sign === '+' ? servicePortOf.after : servicePortOf.before)(rule!) ?? '(node-wide)'
        add(service, { sign: l.sign, table: tn, chain: name, text: l.text })
      }
      if (ca && !cb) add(owner ?? '(node-wide)', { sign: '-', table: tn, chain: name, text: `:${name} (chain deleted)` })
      if (!ca && cb) add(owner ?? '(node-wide)', { sign: '+', table: tn, chain: name, text: `:${name} (chain created)` })
    }
  }
  return byService(groups)
}

/** Changes per Service port, Services in byte order, node-wide last. */
export function byService(groups: ReadonlyMap<string, readonly RuleChange[]>): ServiceRuleDiff[] {
  return sortedByService(groups).map(([service, changes]) => ({ service, changes }))
}

/** Entries keyed by Service port in byte order, "(node-wide)" last. */
export function sortedByService<T>(groups: ReadonlyMap<string, T>): [string, T][] {
  return [...groups].sort(([x], [y]) => (x === '(node-wide)' ? 1 : y === '(node-wide)' ? -1 : x < y ? -1 : x > y ? 1 : 0))
}

export function renderRuleDiff(diffs: readonly ServiceRuleDiff[]): string {
  if (diffs.length === 0) return 'no changes\n'
  let out = ''
  for (const d of diffs) {
    out += `=== ${d.service}\n`
    for (const c of d.changes) out += `${c.sign} ${c.table.padEnd(6)} ${c.text}\n`
  }
  return out
}
