/**
 * Durable persistence in a data dir: `wal.log` (append-only JSON lines, group-committed with one
 * fdatasync per batch) and `snapshot.json` (written to a temp file, fsynced, atomically renamed).
 * On load it replays snapshot + log and truncates a torn tail. Owns file I/O only.
 */
import { open, mkdir, readFile, rename, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { setImmediate as nextMacrotask } from 'node:timers/promises'
import type { LoadedState, Persistence, SnapshotSource } from './persistence.js'
import { StoreError } from './store-error.js'
import { decodeLine, decodeLog, encodeLine, isSnapshot, type Snapshot, type WalRecord } from './wal-record.js'

export interface WalOptions {
  readonly dir: string
  /** Compact into a snapshot once the log exceeds this many bytes. Default 64 MiB. */
  readonly compactAfterBytes?: number
}

interface Pending {
  readonly rv: number
  readonly line: string
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
}

export const walFileName = 'wal.log'
export const snapshotFileName = 'snapshot.json'

export class WalPersistence implements Persistence {
  readonly #dir: string
  readonly #compactAfterBytes: number
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
  }

  /** How many compactions ran since open (for tests and metrics). */
  get compactions(): number {
    return this.#compactions
  }

  setSnapshotSource(source: SnapshotSource): void {
    this.#snapshotSource = source
  }

  async load(): Promise<LoadedState> {
    await mkdir(this.#dir, { recursive: true })
    const warnings: string[] = []
    const snapshot = await this.#readSnapshot()
    const walPath = join(this.#dir, walFileName)
    const fh = await open(walPath, 'a+')
    const buf = await fh.readFile()
    const decoded = decodeLog(buf)
    if (decoded.discardedBytes > 0) {
      warnings.push(`${walPath}: discarded a torn or corrupt tail of ${decoded.discardedBytes} bytes after ${decoded.records.length} records`)
      await fh.truncate(decoded.validBytes)
      await fh.datasync()
    }
    this.#fh = fh
    this.#size = decoded.validBytes
    const after = snapshot?.rv ?? 0
    const records = decoded.records.filter((r) => r.rv > after)
    this.#lastWrittenRv = Math.max(after, records.at(-1)?.rv ?? 0)
    return { snapshot, records, warnings }
  }

  append(record: WalRecord): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#unavailable())
    if (this.#fh === undefined) return Promise.reject(new StoreError('Unavailable', 'WAL is not open'))
    const line = encodeLine(record)
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ rv: record.rv, line, resolve, reject })
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
        const data = batch.map((p) => p.line).join('')
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
    const tmp = join(this.#dir, `${snapshotFileName}.tmp`)
    const tfh = await open(tmp, 'w')
    try {
      await tfh.writeFile(encodeLine(snapshot))
      await tfh.sync()
    } finally {
      await tfh.close()
    }
    await rename(tmp, join(this.#dir, snapshotFileName))
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

  async #readSnapshot(): Promise<Snapshot | undefined> {
    const path = join(this.#dir, snapshotFileName)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw e
    }
    const snap = decodeLine(text.replace(/\n$/, ''))
    if (!isSnapshot(snap)) {
      throw new StoreError('Unavailable', `${path}: snapshot checksum mismatch; the file was written atomically, so the disk is corrupt`)
    }
    return snap
  }
}
