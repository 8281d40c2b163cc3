/**
 * The kernel as judge of nftables text: scripts of `nft -f` and `nft -j list table` run in one
 * throwaway user+network namespace (`unshare -rn`, gone with the process; the root namespace is
 * never touched), and a canonical form of a listed table for comparisons.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Why nft cannot run in a user namespace here, or undefined when it can. */
export function nftNamespaceProblem(): string | undefined {
  const r = spawnSync('unshare', ['-rn', 'nft', 'list', 'ruleset'], { encoding: 'utf8' })
  if (r.error) return `unshare or nft not runnable: ${r.error.message}`
  return r.status === 0 ? undefined : `unshare -rn nft failed: ${r.stderr.trim()}`
}

/** `nft -j list table` without handles, objects sorted, each chain's rules kept in order. */
export function canonicalTable(json: string): string[] {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip)
    if (v === null || typeof v !== 'object') return v
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'handle').map(([k, x]) => [k, k === 'elem' && Array.isArray(x) ? x.map(strip).map((e) => JSON.stringify(e)).sort() : strip(x)]))
  }
  const items = (JSON.parse(json) as { nftables: Record<string, unknown>[] }).nftables.filter((o) => !('metainfo' in o)).map(strip)
  const perChain = new Map<string, number>()
  return items.map((o) => {
    const rule = (o as { rule?: { chain: string } }).rule
    if (!rule) return JSON.stringify(o)
    const i = perChain.get(rule.chain) ?? 0
    perChain.set(rule.chain, i + 1)
    return `rule ${rule.chain} #${String(i).padStart(5, '0')} ${JSON.stringify(o)}`
  }).sort()
}

/**
 * Loads `texts` in order into one fresh namespace, listing the table (canonical form) after each
 * text whose index is in `listAfter` (default: after the last). Throws with nft's message on failure.
 */
export function applyInKernel(family: 'ip' | 'ip6', texts: readonly string[], listAfter: readonly number[] = [texts.length - 1]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'kpe-nft-'))
  try {
    const steps = texts.map((t, i) => {
      const f = join(dir, `step-${i}.nft`)
      writeFileSync(f, t)
      return `nft -f '${f}'${listAfter.includes(i) ? ` && echo '=====' && nft -j list table ${family} kube-proxy` : ''}`
    })
    const r = spawnSync('unshare', ['-rn', 'sh', '-c', steps.join(' && ')], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
    if (r.status !== 0) throw new Error(`nft failed: ${r.stderr}`)
    return r.stdout.split('=====\n').slice(1).map(canonicalTable)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Loads each text alone into an empty table (one namespace for all) and lists each result. */
export function eachFreshInKernel(family: 'ip' | 'ip6', texts: readonly string[]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'kpe-nft-'))
  try {
    const steps = texts.map((t, i) => {
      const f = join(dir, `fresh-${i}.nft`)
      writeFileSync(f, t)
      return `nft -f '${f}' && echo '=====' && nft -j list table ${family} kube-proxy && nft delete table ${family} kube-proxy`
    })
    const r = spawnSync('unshare', ['-rn', 'sh', '-c', steps.join(' && ')], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
    if (r.status !== 0) throw new Error(`nft failed: ${r.stderr}`)
    return r.stdout.split('=====\n').slice(1).map(canonicalTable)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
