/**
 * Many chains' restore text kept as two flat strings (the `:CHAIN` declarations and the `-A`
 * lines) with each chain's offsets, so a node can take any run of them as one O(1) slice, and
 * the merge of such a sorted run with a node's few own chains. Pure; used by cluster-rules.ts.
 */
import type { ChainName } from '../../net/index.js'
import type { Chain } from '../netfilter/index.js'
import { compareChainNames } from './chains.js'
import { flat, type ChainPart } from './rule-table-builder.js'

/** Chains in compareChainNames order, their declarations and lines joined once. */
export interface FlatChains {
  readonly names: readonly ChainName[]
  /** Every name is a KUBE- chain other than KUBE-NODEPORTS and KUBE-SERVICES: byte order alone sorts them. */
  readonly allKube: boolean
  readonly chains: readonly Chain[]
  readonly header: string
  /** headerOffsets[i]: where chain i's declaration starts; one more entry for the end. */
  readonly headerOffsets: Int32Array
  readonly lines: string
  readonly lineOffsets: Int32Array
}

/** The declaration line restore text gives a user chain. */
export function chainDeclaration(chain: string): string {
  return `:${chain} - [0:0]\n`
}

/** Joins parts already in chain order (names unique) into flat strings with offsets. */
export const noFlatChains: FlatChains = flattenChains([])

export function flattenChains(parts: readonly ChainPart[]): FlatChains {
  const headerOffsets = new Int32Array(parts.length + 1)
  const lineOffsets = new Int32Array(parts.length + 1)
  const headers: string[] = []
  const lines: string[] = []
  let h = 0
  let l = 0
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    headerOffsets[i] = h
    lineOffsets[i] = l
    const decl = chainDeclaration(part.chain)
    headers.push(decl)
    lines.push(part.text)
    h += decl.length
    l += part.text.length
  }
  headerOffsets[parts.length] = h
  lineOffsets[parts.length] = l
  const names = parts.map((p) => p.chain)
  return {
    names,
    allKube: names.every((n) => n.startsWith('KUBE-') && n !== 'KUBE-NODEPORTS' && n !== 'KUBE-SERVICES'),
    chains: parts.map((p) => ({ name: p.chain, rules: p.rules })),
    header: flat(headers.join('')),
    headerOffsets,
    lines: flat(lines.join('')),
    lineOffsets,
  }
}

/** One step of a merged table: a run [from, to) of the flat chains, or one chain of the node's own. */
export type MergeStep<T> = { readonly from: number; readonly to: number } | { readonly own: T }

/**
 * The node's table in chain order: the flat chains without the `removed` indices (sorted,
 * ascending), with `own` (sorted by compareChainNames, names not among the kept flat chains)
 * placed where they sort. Work is in the number of removed and own chains, not the flat ones.
 */
export function mergeChains<T extends { readonly chain: ChainName }>(flatChains: FlatChains, removed: readonly number[], own: readonly T[]): MergeStep<T>[] {
  const steps: MergeStep<T>[] = []
  let r = 0
  const run = (from: number, to: number): void => {
    // Skip the removed indices inside [from, to): each splits the run.
    while (r < removed.length && removed[r]! < to) {
      const cut = removed[r++]!
      if (cut >= from) {
        if (cut > from) steps.push({ from, to: cut })
        from = cut + 1
      }
    }
    if (to > from) steps.push({ from, to })
  }
  let pos = 0
  for (const part of own) {
    const at = lowerBound(flatChains, part.chain)
    run(pos, at)
    steps.push({ own: part })
    pos = Math.max(pos, at)
  }
  run(pos, flatChains.names.length)
  return steps
}

/** Where `name` sorts among the flat chains (compareChainNames order). */
function lowerBound(flatChains: FlatChains, name: string): number {
  const names = flatChains.names
  let lo = 0
  let hi = names.length
  if (flatChains.allKube) {
    // Service chains only: KUBE-NODEPORTS and KUBE-SERVICES sort first, non-KUBE- chains last,
    // and among KUBE- chains byte order decides (a node runs this for each of its own chains).
    if (name === 'KUBE-NODEPORTS' || name === 'KUBE-SERVICES') return 0
    if (!name.startsWith('KUBE-')) return names.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (names[mid]! < name) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareChainNames(names[mid]!, name) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
