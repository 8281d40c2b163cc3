/**
 * Classifies a WAL read line by line, pure: a clean log, a torn tail (the unfinished last group
 * commit of a crash, safe to truncate) or corruption (a bad line with later group commits after
 * it, or a resourceVersion that does not increase), which must stop startup.
 */
import { splitBuffer, type FileLine } from './line-reader.js'
import { decodeLine, isWalRecord, type WalRecord } from './wal-record.js'

export type LogDamage =
  | {
    readonly kind: 'torn-tail'
    /** Where the discarded tail starts. */
    readonly offset: number
    readonly line: number
    readonly discardedBytes: number
  }
  | {
    readonly kind: 'corrupt'
    readonly offset: number
    readonly line: number
    readonly reason: string
    /** resourceVersions of the readable records after the corrupt line, which a repair drops. */
    readonly droppedResourceVersions: readonly number[]
    /** Unreadable lines after the corrupt one. */
    readonly unreadableLinesAfter: number
  }

export interface ScanResult {
  /** Records before the first bad line, in order. */
  readonly records: WalRecord[]
  /** Byte length of that valid prefix. */
  readonly validBytes: number
  readonly damage: LogDamage | undefined
}

interface BadLine {
  readonly offset: number
  readonly line: number
  readonly reason: string
  /** A complete record that breaks resourceVersion order is never a torn write. */
  readonly isFatal: boolean
}

export class WalScanner {
  readonly #records: WalRecord[] = []
  #validBytes = 0
  #lastRv = 0
  #bad: BadLine | undefined
  #rvsAfter: number[] = []
  #unreadableAfter = 0
  #hasLaterCommit = false

  feed(line: FileLine): void {
    const rec = line.terminated && line.bytes ? decodeLine(line.bytes.toString('utf8')) : undefined
    const isRecord = isWalRecord(rec)
    if (this.#bad) {
      if (!isRecord) {
        this.#unreadableAfter++
        return
      }
      this.#rvsAfter.push(rec.rv)
      // a record whose group commit started after the bad line proves a later, finished commit
      if (rec.b === undefined || rec.b > this.#bad.offset) this.#hasLaterCommit = true
      return
    }
    if (!isRecord) {
      this.#bad = { offset: line.offset, line: line.line, reason: unreadableReason(line), isFatal: false }
      return
    }
    const disorder = orderProblem(rec, this.#lastRv)
    if (disorder !== undefined) {
      this.#bad = { offset: line.offset, line: line.line, reason: disorder, isFatal: true }
      return
    }
    this.#records.push(rec)
    this.#lastRv = rec.rv
    this.#validBytes = line.offset + line.length + 1
  }

  finish(totalBytes: number): ScanResult {
    const bad = this.#bad
    const base = { records: this.#records, validBytes: this.#validBytes }
    if (!bad) return { ...base, damage: undefined }
    if (bad.isFatal || this.#hasLaterCommit) {
      return {
        ...base,
        damage: { kind: 'corrupt', offset: bad.offset, line: bad.line, reason: bad.reason, droppedResourceVersions: this.#rvsAfter, unreadableLinesAfter: this.#unreadableAfter },
      }
    }
    return { ...base, damage: { kind: 'torn-tail', offset: bad.offset, line: bad.line, discardedBytes: totalBytes - this.#validBytes } }
  }
}

function unreadableReason(line: FileLine): string {
  if (!line.terminated) return 'incomplete last line'
  if (!line.bytes) return `line of ${line.length} bytes is longer than any record`
  return 'checksum mismatch or unreadable record'
}

/** resourceVersions strictly increase across records and the ops of one record, and match the objects written. */
function orderProblem(rec: WalRecord, lastRv: number): string | undefined {
  let prev = lastRv
  for (const op of rec.ops) {
    if (typeof op.rv !== 'number' || op.rv <= prev) return `resourceVersion ${String(op.rv)} of ${op.k} does not follow ${prev}`
    const objectRv = op.t === 'put' ? op.o.metadata?.resourceVersion : undefined
    if (objectRv !== undefined && objectRv !== String(op.rv)) return `${op.k} carries resourceVersion ${objectRv} in a write at ${op.rv}`
    prev = op.rv
  }
  if (rec.rv <= lastRv || rec.rv < prev) return `record resourceVersion ${rec.rv} does not follow ${lastRv}`
  return undefined
}

export interface DecodedLog {
  readonly records: WalRecord[]
  /** Byte length of the valid prefix; anything after it is a torn tail or corruption. */
  readonly validBytes: number
  readonly discardedBytes: number
  readonly damage: LogDamage | undefined
}

/** Decodes a whole log held in memory (tests, small logs); the store streams with WalScanner. */
export function decodeLog(buf: Buffer): DecodedLog {
  const scanner = new WalScanner()
  for (const line of splitBuffer(buf)) scanner.feed(line)
  const result = scanner.finish(buf.length)
  return { records: result.records, validBytes: result.validBytes, discardedBytes: buf.length - result.validBytes, damage: result.damage }
}

/** One sentence for logs and errors: where the damage is and what it costs. */
export function describeDamage(file: string, damage: LogDamage, keptRecords: number): string {
  if (damage.kind === 'torn-tail') {
    return `${file}: discarded a torn or corrupt tail of ${damage.discardedBytes} bytes at byte ${damage.offset} (line ${damage.line}) after ${keptRecords} records: the last group commit was cut short by a crash, so none of it was acknowledged`
  }
  const dropped = damage.droppedResourceVersions
  const after = dropped.length === 0 ? '' : `; ${dropped.length} readable records follow it (resourceVersions ${formatRvs(dropped)})`
  const unreadable = damage.unreadableLinesAfter === 0 ? '' : `; ${damage.unreadableLinesAfter} more unreadable lines follow it`
  return `${file}: corrupt record at byte ${damage.offset} (line ${damage.line}): ${damage.reason}${after}${unreadable}; ${keptRecords} records precede it`
}

function formatRvs(rvs: readonly number[]): string {
  const shown = rvs.slice(0, 20).join(', ')
  return rvs.length > 20 ? `${shown}, … ${rvs.at(-1) ?? ''}` : shown
}
