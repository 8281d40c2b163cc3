/**
 * The kernel judges kpe's nftables sync transactions: in a throwaway user+network namespace
 * (`unshare -rn`, gone when the process exits; nothing touches the root namespace) the table a
 * node held, plus the transaction of a partial and of a full sync, must equal the table after.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadManifestText, parseProxierConfigFile } from '../../src/api/index.js'
import { proxierInputFromFile } from '../../src/cli/vector-config.js'
import { renderNftablesTransaction, renderNftSyncTransaction } from '../../src/proxy/nftables/index.js'
import { buildNodeNftSync } from '../../src/proxy/node-nft-sync.js'
import { goldenNftDir, hasShared, nftVectorCases } from '../helpers/shared.js'
import { isCI } from '../helpers/root.js'

function userNamespaceProblem(): string | undefined {
  const r = spawnSync('unshare', ['-rn', 'nft', 'list', 'ruleset'], { encoding: 'utf8' })
  if (r.error) return `unshare or nft not runnable: ${r.error.message}`
  return r.status === 0 ? undefined : `unshare -rn nft failed: ${r.stderr.trim()}`
}

/** `nft -j list table` without handles, objects sorted, each chain's rules kept in order. */
function canonicalTable(json: string): string[] {
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

const dir = mkdtempSync(join(tmpdir(), 'kpe-nft-sync-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Loads the files in order into a fresh namespace and lists the kube-proxy table. */
function tableAfter(family: string, ...texts: string[]): string[] {
  const files = texts.map((t, i) => {
    const f = join(dir, `step-${i}.nft`)
    writeFileSync(f, t)
    return f
  })
  const script = `${files.map((f) => `nft -f '${f}'`).join(' && ')} && nft -j list table ${family} kube-proxy`
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', script], { encoding: 'utf8' })
  expect(r.status, r.stderr).toBe(0)
  return canonicalTable(r.stdout)
}

const problem = hasShared(goldenNftDir) ? userNamespaceProblem() : 'no vectors'
if (problem !== undefined && problem !== 'no vectors' && !isCI) console.warn(`[nft-sync-kernel] skipped: ${problem}`)

describe.runIf(problem === undefined || (isCI && problem !== 'no vectors'))('nftables sync transactions in the kernel', () => {
  it('needs unshare -rn and nft when CI is set', () => {
    expect(problem).toBeUndefined()
  })

  const read = (...p: string[]): string => readFileSync(join(goldenNftDir, ...p), 'utf8')
  const stepped = nftVectorCases().filter((n) => (parse(read(n, 'config.yaml')) as { sync?: { after?: string } }).sync?.after !== undefined)
  it.each(stepped)('%s: held table + partial / full sync transaction = the table after', (name) => {
    const after = (parse(read(name, 'config.yaml')) as { sync: { after: string } }).sync.after
    const config = proxierInputFromFile(parseProxierConfigFile(read(name, 'config.yaml'), 'config.yaml'))
    const req = { manifests: loadManifestText(read(name, 'input.yaml'), 'input.yaml'), ...config }
    const before = loadManifestText(read(after, 'input.yaml'), 'input.yaml')
    for (const full of [false, true]) {
      const sync = buildNodeNftSync(req, before, { full })
      const held = renderNftablesTransaction(sync.before)
      const want = tableAfter(sync.after.family, renderNftablesTransaction(sync.after))
      expect(tableAfter(sync.after.family, held, renderNftSyncTransaction(sync)), `${full ? 'full' : 'partial'} sync`).toEqual(want)
    }
  }, 30_000)
})
