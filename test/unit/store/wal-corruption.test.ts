import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeLog, encodeLine, encodeRecordLine, isStoreError, openDurableStore, StoreError, walFileName, type KubeObject } from '../../../src/store/index.js'

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kpe-walbad-'))
  dirs.push(d)
  return d
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

function cm(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { name } }
}
const putLine = (rv: number, b: number, name = `c${rv}`): string =>
  encodeRecordLine(rv, b, JSON.stringify([{ t: 'put', k: `configmaps/default/${name}`, rv, o: { ...cm(name), metadata: { ...cm(name).metadata, resourceVersion: String(rv) } } }]))

/** A data dir whose log holds `n` creates, each acknowledged on its own (one group commit each). */
async function storeWith(n: number): Promise<string> {
  const dir = await tempDir()
  const s = await openDurableStore({ dataDir: dir })
  for (let i = 0; i < n; i++) await s.create('configmaps', cm(`c${i}`))
  await s.close()
  return dir
}

async function openError(dir: string): Promise<unknown> {
  try {
    const s = await openDurableStore({ dataDir: dir })
    await s.close()
  } catch (e) {
    return e
  }
  return undefined
}

/** Start offsets of the lines of a log, newline included in each line. */
function lineStarts(buf: Buffer): number[] {
  const starts = [0]
  for (let i = buf.indexOf(0x0a); i >= 0 && i + 1 < buf.length; i = buf.indexOf(0x0a, i + 1)) starts.push(i + 1)
  return starts
}

describe('corrupt WAL records', () => {
  it('a flipped bit at 10% of the log stops startup, naming the file, byte offset and line', async () => {
    const dir = await storeWith(200)
    const path = join(dir, walFileName)
    const buf = await readFile(path)
    const pos = Math.floor(buf.length * 0.1)
    buf[pos] = (buf[pos] ?? 0) ^ 0x04
    await writeFile(path, buf)
    const starts = lineStarts(buf)
    const line = starts.filter((s) => s <= pos).length
    const err = await openError(dir)
    expect(isStoreError(err, 'Corrupt'), String(err)).toBe(true)
    const e = err as StoreError
    expect(e.location).toEqual({ file: path, offset: starts[line - 1], line })
    expect(e.message).toContain(path)
    expect(e.message).toContain(`byte ${starts[line - 1]} (line ${line})`)
    expect(e.message).toMatch(/\d+ readable records follow it/)
    // nothing was truncated or rewritten
    expect((await readFile(path)).equals(buf)).toBe(true)
  })

  it('any single flipped bit is caught: corruption before the last line, a torn tail in it', () => {
    const lines = Array.from({ length: 12 }, (_, i) => i + 1)
    let text = ''
    for (const rv of lines) text += putLine(rv, Buffer.byteLength(text))
    const clean = Buffer.from(text)
    const starts = lineStarts(clean)
    const lastStart = starts.at(-1) ?? 0
    fc.assert(fc.property(fc.nat({ max: clean.length - 1 }), fc.integer({ min: 0, max: 7 }), (pos, bit) => {
      const buf = Buffer.from(clean)
      buf[pos] = (buf[pos] ?? 0) ^ (1 << bit)
      const decoded = decodeLog(buf)
      const lineStart = starts.filter((s) => s <= pos).at(-1)
      if (pos >= lastStart) {
        expect(decoded.damage?.kind).toBe('torn-tail')
        expect(decoded.records).toHaveLength(lines.length - 1)
      } else {
        expect(decoded.damage).toMatchObject({ kind: 'corrupt', offset: lineStart })
        expect(decoded.validBytes).toBe(lineStart)
      }
    }), { seed: 10, numRuns: 500 })
  })

  it('a crash anywhere (a cut, or zeros inside the last group commit) reads as a torn tail, never as corruption', async () => {
    const dir = await tempDir()
    const store = await openDurableStore({ dataDir: dir })
    // concurrent writes make group commits of several records each
    for (let round = 0; round < 8; round++) await Promise.all(Array.from({ length: 12 }, (_, i) => store.create('configmaps', cm(`r${round}-${i}`))))
    await store.close()
    const clean = await readFile(join(dir, walFileName))
    const all = decodeLog(clean).records
    const lastCommit = all.at(-1)?.b ?? 0
    expect(all.filter((r) => r.b === lastCommit).length).toBeGreaterThan(1)
    const starts = lineStarts(clean)
    fc.assert(fc.property(fc.nat({ max: clean.length - 1 }), (cut) => {
      const decoded = decodeLog(clean.subarray(0, cut))
      expect(decoded.damage?.kind ?? 'torn-tail').toBe('torn-tail')
      // every line that ends before the cut survives
      expect(decoded.records).toHaveLength(starts.filter((s) => s > 0 && s <= cut).length)
    }), { seed: 11, numRuns: 300 })
    fc.assert(fc.property(fc.integer({ min: lastCommit, max: clean.length - 2 }), fc.integer({ min: 1, max: 200 }), (from, len) => {
      const buf = Buffer.from(clean)
      buf.fill(0, from, Math.min(from + len, clean.length - 1))
      const decoded = decodeLog(buf)
      expect(decoded.damage?.kind).toBe('torn-tail')
      expect(decoded.validBytes).toBeGreaterThanOrEqual(lastCommit)
    }), { seed: 12, numRuns: 300 })
  })

  it('a torn final line is truncated with a warning, and the store keeps working', async () => {
    const dir = await storeWith(5)
    const path = join(dir, walFileName)
    const before = (await stat(path)).size
    const torn = putLine(6, before)
    await appendFile(path, torn.slice(0, 40))
    const warnings: string[] = []
    const s = await openDurableStore({ dataDir: dir, onWarning: (w) => warnings.push(w) })
    expect(s.list('configmaps').items).toHaveLength(5)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(`torn or corrupt tail of 40 bytes at byte ${before} (line 6)`)
    expect((await stat(path)).size).toBe(before)
    await s.create('configmaps', cm('after'))
    await s.close()
  })

  it('a bad line inside the last group commit is a torn tail even with lines of that commit after it', () => {
    const first = putLine(1, 0)
    const start = Buffer.byteLength(first)
    const second = putLine(2, start)
    const third = putLine(3, start)
    const damaged = second.replace('"rv":2', '"rv":9')
    const decoded = decodeLog(Buffer.from(first + damaged + third))
    expect(decoded.damage?.kind).toBe('torn-tail')
    expect(decoded.records.map((r) => r.rv)).toEqual([1])
  })

  it('a bad line followed by a later group commit is corruption', () => {
    const first = putLine(1, 0)
    const start = Buffer.byteLength(first)
    const second = putLine(2, start)
    const third = putLine(3, start + Buffer.byteLength(second))
    const damaged = second.replace('"rv":2', '"rv":9')
    const decoded = decodeLog(Buffer.from(first + damaged + third))
    expect(decoded.damage).toMatchObject({ kind: 'corrupt', offset: start, line: 2, droppedResourceVersions: [3] })
  })

  it('a bad line followed by records of an older kpe (no group commit offset) is corruption', () => {
    const good = encodeLine({ rv: 1, ops: [] }) + encodeLine({ rv: 2, ops: [] })
    const bad = encodeLine({ rv: 3, ops: [] }).replace('"rv":3', '"rv":4')
    const decoded = decodeLog(Buffer.from(good + bad + encodeLine({ rv: 5, ops: [] })))
    expect(decoded.damage).toMatchObject({ kind: 'corrupt', line: 3, droppedResourceVersions: [5] })
  })
})

describe('resourceVersion never moves backwards', () => {
  it('refuses a valid-checksum tail record whose resourceVersion is not above the previous one', async () => {
    const dir = await storeWith(5)
    const path = join(dir, walFileName)
    const size = (await stat(path)).size
    await appendFile(path, putLine(3, size, 'evil'))
    const err = await openError(dir)
    expect(isStoreError(err, 'Corrupt'), String(err)).toBe(true)
    expect((err as StoreError).location).toEqual({ file: path, offset: size, line: 6 })
    expect((err as StoreError).message).toContain('does not follow 5')
  })

  it('refuses ops whose resourceVersions go backwards inside one record', () => {
    const ops = [
      { t: 'put', k: 'configmaps/default/a', rv: 2, o: cm('a') },
      { t: 'put', k: 'configmaps/default/b', rv: 1, o: cm('b') },
    ]
    const decoded = decodeLog(Buffer.from(encodeRecordLine(2, 0, JSON.stringify(ops))))
    expect(decoded.damage).toMatchObject({ kind: 'corrupt', line: 1 })
    expect(decoded.records).toEqual([])
  })

  it('refuses a write whose object carries another resourceVersion than the write', () => {
    const ops = [{ t: 'put', k: 'configmaps/default/a', rv: 1, o: { ...cm('a'), metadata: { name: 'a', namespace: 'default', resourceVersion: '900' } } }]
    const decoded = decodeLog(Buffer.from(encodeRecordLine(1, 0, JSON.stringify(ops))))
    expect(decoded.damage).toMatchObject({ kind: 'corrupt', line: 1, reason: 'configmaps/default/a carries resourceVersion 900 in a write at 1' })
  })

  it('a reopened store continues above the highest resourceVersion it loaded', async () => {
    const dir = await storeWith(3)
    const s = await openDurableStore({ dataDir: dir })
    expect((await s.create('configmaps', cm('next'))).metadata.resourceVersion).toBe('4')
    await s.close()
  })
})
