/** Locates ../shared (the reference material beside the repo), or $KPE_SHARED. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const sharedDir = process.env['KPE_SHARED'] ?? resolve(repoRoot, '../shared')
export const goldenDir = join(sharedDir, 'kube-proxy-golden')
/** The nftables-mode vectors (same layout as goldenDir). */
export const goldenNftDir = join(sharedDir, 'kube-proxy-golden-nft')

/**
 * Whether ../shared/kube-proxy-golden is there. Missing under CI is a loud failure (CI always
 * has it beside the clone); elsewhere the suites that need it skip with a printed reason.
 */
export function hasShared(dir: string = goldenDir): boolean {
  if (existsSync(dir)) return true
  const ci = process.env['CI']
  if (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') {
    throw new Error(`upstream vectors missing at ${dir} while CI is set; set KPE_SHARED to the shared/ folder`)
  }
  console.warn(`[vectors] skipped: ${dir} not found (set KPE_SHARED to the shared/ folder)`)
  return false
}

export function readShared(...parts: string[]): string {
  return readFileSync(join(goldenDir, ...parts), 'utf8')
}

/** Full-dump cases: directories with expected.iptables. */
export function vectorCases(): string[] {
  return readdirSync(goldenDir).filter((d) => existsSync(join(goldenDir, d, 'expected.iptables'))).sort()
}

export function flowCases(): string[] {
  return readdirSync(join(goldenDir, 'flows')).filter((d) => existsSync(join(goldenDir, 'flows', d, 'flows.yaml'))).sort()
}

/** nftables full-dump cases: directories of goldenNftDir with expected.nft. */
export function nftVectorCases(): string[] {
  return readdirSync(goldenNftDir).filter((d) => existsSync(join(goldenNftDir, d, 'expected.nft'))).sort()
}
