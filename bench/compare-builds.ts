/**
 * `npm run bench:compare -- [--base REF] [--head REF] [--rounds N] [--only render,interp,peers,api] [--quick]`:
 * the same benchmarks of two commits in one run, alternating base and head so machine noise falls
 * on both alike. Each commit is checked out into a temporary git worktree and built there (the
 * working tree's own build is left alone); each round runs one bench of each; the table gives
 * per-figure medians and head ÷ base.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { figure, formatTable, median, type Figure } from './figures.js'

const { values } = parseArgs({ options: { base: { type: 'string' }, head: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' }, quick: { type: 'boolean' } } })
const baseRef = values.base ?? '7521a2b'
const headRef = values.head ?? 'HEAD'
const rounds = Number(values.rounds ?? '5')
const only = values.only ?? 'render,interp,peers,api'
const repo = resolve(import.meta.dirname, '../..')

interface Build {
  readonly label: 'base' | 'head'
  readonly dir: string
}

type Samples = Map<string, { unit: string; values: number[] }>

function git(...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim()
}

/** One quick bench of a build; its figures by name. */
function runOnce(build: Build, jsonFile: string): Figure[] {
  const r = spawnSync(process.execPath, ['--expose-gc', join(build.dir, 'dist/bench/main.js'), ...(values.quick ? ['--quick'] : []), '--rounds', '3', '--only', only, '--json', jsonFile], { cwd: build.dir, stdio: ['ignore', 'ignore', 'inherit'] })
  if (r.status !== 0) throw new Error(`bench of ${build.label} exited with ${r.status ?? r.signal}`)
  return JSON.parse(readFileSync(jsonFile, 'utf8')) as Figure[]
}

function collect(into: Samples, figs: readonly Figure[]): void {
  for (const f of figs) {
    if (f.value === null) continue
    const s = into.get(f.name) ?? { unit: f.unit, values: [] }
    s.values.push(f.value)
    into.set(f.name, s)
  }
}

/**
 * Whether head's median lies within the spread base showed over the rounds (or base's within
 * head's): on a noisy machine the spread of one build's rounds is the noise a difference must
 * exceed before it means anything.
 */
function noiseNote(base: readonly number[], head: readonly number[]): string {
  const range = (xs: readonly number[]): [number, number] => [Math.min(...xs), Math.max(...xs)]
  const [bLo, bHi] = range(base)
  const [hLo, hHi] = range(head)
  const within = (x: number, lo: number, hi: number): boolean => x >= lo && x <= hi
  const verdict = within(median(head), bLo, bHi) || within(median(base), hLo, hHi) ? 'within noise' : 'BEYOND noise'
  const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3))
  return `${verdict}: base ${fmt(bLo)}..${fmt(bHi)}, head ${fmt(hLo)}..${fmt(hHi)} over ${base.length}+${head.length} runs`
}

const scratch = mkdtempSync(join(tmpdir(), 'kpe-bench-compare-'))
const builds: Build[] = []
try {
  for (const [label, ref] of [['base', baseRef], ['head', headRef]] as const) {
    const dir = join(scratch, label)
    git('worktree', 'add', '--detach', '-q', dir, git('rev-parse', '--verify', `${ref}^{commit}`))
    builds.push({ label, dir })
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'))
    execFileSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' })
  }
  const samples = { base: new Map(), head: new Map() } satisfies Record<Build['label'], Samples>
  for (let i = 0; i < rounds; i++) {
    // alternate which build goes first, so a drift in load during a round does not favour one
    for (const b of i % 2 === 0 ? builds : [...builds].reverse()) {
      process.stderr.write(`bench:compare round ${i + 1}/${rounds}: ${b.label}\n`)
      collect(samples[b.label], runOnce(b, join(scratch, `${b.label}-${i}.json`)))
    }
  }
  const rows: Figure[] = []
  for (const [name, head] of samples.head) {
    const base = samples.base.get(name)
    rows.push(figure(name, median(head.values), head.unit, base ? median(base.values) : null, { note: base ? noiseNote(base.values, head.values) : 'new in head' }))
  }
  process.stdout.write(`base ${baseRef} (${git('-C', builds[0]!.dir, 'rev-parse', '--short=12', 'HEAD')}) vs head ${headRef} (${git('-C', builds[1]!.dir, 'rev-parse', '--short=12', 'HEAD')}): value = head median, baseline = base median, ratio = head/base\n`)
  process.stdout.write(formatTable(rows))
} finally {
  for (const b of builds) git('worktree', 'remove', '--force', b.dir)
  rmSync(scratch, { recursive: true, force: true })
}
