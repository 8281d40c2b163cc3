/**
 * Durable persistence in a private data dir: `wal.log` (append-only JSON lines, group-committed
 * with one fdatasync per batch) and `snapshot.json` (see snapshot-file.ts). On load it streams
 * both, truncates a torn tail with a warning and refuses a corrupt log. Owns file I/O only.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { setImmediate as nextMacrotask } from 'node:timers/promises'
import { defaultMaxLineBytes, readFileLines } from './line-reader.js'
import type { LoadedState, Persistence, SnapshotSource } from './persistence.js'
import { ensurePrivateDir, openPrivate, tightenFile } from './private-files.js'
import { readSnapshotFile, snapshotFileName, writeSnapshotFile } from './snapshot-file.js'
import { StoreError } from './store-error.js'
import { encodeRecordLine, type Snapshot, type WalRecord } from './wal-record.js'
import { describeDamage, WalScanner, type ScanResult } from './wal-scan.js'

export { snapshotFileName } from './snapshot-file.js'

export interface WalOptions {
  readonly dir: string
  /** Compact into a snapshot once the log exceeds this many bytes. Default 64 MiB. */
  readonly compactAfterBytes?: number
  /** Longest line written or read, records and snapshot entries alike. Default: V8's string limit. */
  readonly maxLineBytes?: number
  /** Bytes gathered per write call while streaming a snapshot. Default 1 MiB. */
  readonly snapshotChunkBytes?: number
}

interface Pending {
  readonly rv: number
  readonly opsJson: string
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
}

export const walFileName = 'wal.log'

/** Reads wal.log without changing it: the records and any damage (for load and `kpe store check`). */
export async function scanWal(fh: FileHandle, maxLineBytes = defaultMaxLineBytes): Promise<ScanResult> {
  const scanner = new WalScanner()
  for await (const line of readFileLines(fh, { maxLineBytes })) scanner.feed(line)
  return scanner.finish((await fh.stat()).size)
}

export class WalPersistence implements Persistence {
  readonly #dir: string
  readonly #compactAfterBytes: number
  readonly #maxLineBytes: number
  readonly #snapshotChunkBytes: number | undefined
  #fh: FileHandle | undefined
  #size = 0
  #queue: Pending[] = []
  #flushing: Promise<void> | undefined
  #failure: unknown
  #snapshotSource: SnapshotSource | undefined
  #lastWrittenRv = 0
  #compactions = 0

  constructor(opts: WalOptions) {
    this.#dir = opts.dir
    this.#compactAfterBytes = opts.compactAfterBytes ?? 64 * 1024 * 1024
    this.#maxLineBytes = opts.maxLineBytes ?? defaultMaxLineBytes
    this.#snapshotChunkBytes = opts.snapshotChunkBytes
  }

  /** How many compactions ran since open (for tests and metrics). */
  get compactions(): number {
    return this.#compactions
  }

  setSnapshotSource(source: SnapshotSource): void {
    this.#snapshotSource = source
  }

  async load(): Promise<LoadedState> {
    const warnings: string[] = []
    const tightened = await ensurePrivateDir(this.#dir)
    if (tightened) warnings.push(tightened)
    await tightenFile(join(this.#dir, snapshotFileName))
    const snapshot = await readSnapshotFile(this.#dir, { maxLineBytes: this.#maxLineBytes })
    const walPath = join(this.#dir, walFileName)
    const fh = await openPrivate(walPath, 'a+')
    let scan: ScanResult
    try {
      scan = await scanWal(fh, this.#maxLineBytes)
      if (scan.damage?.kind === 'corrupt') {
        throw new StoreError('Corrupt', `${describeDamage(walPath, scan.damage, scan.records.length)}; refusing to start rather than drop them`, {
          location: { file: walPath, offset: scan.damage.offset, line: scan.damage.line },
        })
      }
      if (scan.damage?.kind === 'torn-tail') {
        warnings.push(describeDamage(walPath, scan.damage, scan.records.length))
        await fh.truncate(scan.validBytes)
        await fh.datasync()
      }
    } catch (e) {
      await fh.close()
      throw e
    }
    this.#fh = fh
    this.#size = scan.validBytes
    const after = snapshot?.rv ?? 0
    const records = scan.records.filter((r) => r.rv > after)
    this.#lastWrittenRv = Math.max(after, records.at(-1)?.rv ?? 0)
    return { snapshot, records, warnings }
  }

  append(record: WalRecord): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#unavailable())
    if (this.#fh === undefined) return Promise.reject(new StoreError('Unavailable', 'WAL is not open'))
    let opsJson: string
    try {
      opsJson = JSON.stringify(record.ops)
    } catch (e) {
      return Promise.reject(new StoreError('Invalid', `resourceVersion ${record.rv}: cannot serialize the write`, { cause: e }))
    }
    // a line the reader would refuse must never be acknowledged
    const bytes = Buffer.byteLength(opsJson)
    if (bytes > this.#maxLineBytes - 100) {
      return Promise.reject(new StoreError('Invalid', `resourceVersion ${record.rv}: the write is ${bytes} bytes, over the ${this.#maxLineBytes}-byte record limit`))
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ rv: record.rv, opsJson, resolve, reject })
      this.#flushing ??= this.#flushLoop().finally(() => {
        this.#flushing = undefined
      })
    })
  }

  async close(): Promise<void> {
    while (this.#flushing) await this.#flushing
    await this.#fh?.close()
    this.#fh = undefined
  }

  async #flushLoop(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue
      this.#queue = []
      try {
        // every line carries where its group commit starts: only the last commit can be torn
        const start = this.#size
        const data = batch.map((p) => encodeRecordLine(p.rv, start, p.opsJson)).join('')
        const fh = this.#fh
        if (!fh) throw new StoreError('Unavailable', 'WAL closed with writes pending')
        await fh.writeFile(data)
        await fh.datasync()
        this.#size += Buffer.byteLength(data)
        this.#lastWrittenRv = batch.at(-1)?.rv ?? this.#lastWrittenRv
      } catch (e) {
        this.#fail(e, batch)
        return
      }
      for (const p of batch) p.resolve()
      if (this.#size > this.#compactAfterBytes && this.#snapshotSource) {
        // let the store apply the batch just acknowledged before asking it for a snapshot
        await nextMacrotask()
        try {
          await this.#compact(this.#snapshotSource())
        } catch (e) {
          this.#fail(e, [])
          return
        }
      }
    }
  }

  #fail(e: unknown, batch: readonly Pending[]): void {
    // after a failed fsync the page cache state is unknown: refuse all further writes
    this.#failure = e
    const err = this.#unavailable()
    for (const p of [...batch, ...this.#queue]) p.reject(err)
    this.#queue = []
  }

  #unavailable(): StoreError {
    return new StoreError('Unavailable', `WAL in ${this.#dir} failed; restart to recover`, { cause: this.#failure })
  }

  async #compact(snapshot: Snapshot): Promise<void> {
    // the snapshot must cover everything already in the log, or truncating would lose records
    if (snapshot.rv < this.#lastWrittenRv) return
    await writeSnapshotFile(this.#dir, snapshot, this.#snapshotChunkBytes === undefined ? {} : { chunkBytes: this.#snapshotChunkBytes })
    await this.#syncDir()
    // records up to snapshot.rv are now redundant; replay skips them if this truncate is lost
    const fh = this.#fh
    if (!fh) return
    await fh.truncate(0)
    await fh.datasync()
    this.#size = 0
    this.#compactions++
  }

  async #syncDir(): Promise<void> {
    const dfh = await open(this.#dir, 'r')
    try {
      await dfh.sync()
    } finally {
      await dfh.close()
    }
  }
}
