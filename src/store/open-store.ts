/**
 * Entry points: a durable store over a data dir (WAL + snapshots) or a memory-only one.
 * Wires the WAL's compaction to the store's committed snapshot, and keeps a copy of every
 * object skipped at load so that no user data disappears without a trace.
 */
import { join } from 'node:path'
import { openPrivate } from './private-files.js'
import type { StoredObjectCheck } from './types.js'
import { VersionedStore, type SkippedObject } from './versioned-store.js'
import { WalPersistence } from './wal-persistence.js'

export interface OpenStoreOptions {
  readonly dataDir: string
  readonly compactAfterBytes?: number
  readonly historySize?: number
  readonly onWarning?: (message: string) => void
  /** See StoreOptions.admit: problems with a loaded object keep it out of the served state. */
  readonly admit?: StoredObjectCheck
  /** Live state limit in serialized bytes. Default 2 GiB. */
  readonly quotaBytes?: number
  /** Longest WAL record or snapshot line. Default: V8's string limit (about 512 MiB). */
  readonly maxLineBytes?: number
  readonly snapshotChunkBytes?: number
}

export async function openDurableStore(opts: OpenStoreOptions): Promise<VersionedStore> {
  const wal = new WalPersistence({
    dir: opts.dataDir,
    ...(opts.compactAfterBytes === undefined ? {} : { compactAfterBytes: opts.compactAfterBytes }),
    ...(opts.maxLineBytes === undefined ? {} : { maxLineBytes: opts.maxLineBytes }),
    ...(opts.snapshotChunkBytes === undefined ? {} : { snapshotChunkBytes: opts.snapshotChunkBytes }),
  })
  const store = await VersionedStore.open({
    persistence: wal,
    ...(opts.historySize === undefined ? {} : { historySize: opts.historySize }),
    ...(opts.onWarning === undefined ? {} : { onWarning: opts.onWarning }),
    ...(opts.admit === undefined ? {} : { admit: opts.admit }),
    ...(opts.quotaBytes === undefined ? {} : { quotaBytes: opts.quotaBytes }),
  })
  if (store.skippedAtLoad.length > 0) {
    const file = await saveSkipped(opts.dataDir, store.skippedAtLoad)
    opts.onWarning?.(`${store.skippedAtLoad.length} skipped objects are kept in ${file}`)
  }
  wal.setSnapshotSource(() => store.snapshot())
  return store
}

export function openMemoryStore(opts: { historySize?: number; quotaBytes?: number } = {}): Promise<VersionedStore> {
  return VersionedStore.open({
    ...(opts.historySize === undefined ? {} : { historySize: opts.historySize }),
    ...(opts.quotaBytes === undefined ? {} : { quotaBytes: opts.quotaBytes }),
  })
}

/** One JSON line per skipped object, 0600 like the rest of the store. */
async function saveSkipped(dir: string, skipped: readonly SkippedObject[]): Promise<string> {
  const file = join(dir, `skipped-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`)
  const fh = await openPrivate(file, 'w')
  try {
    for (const s of skipped) await fh.write(`${JSON.stringify(s)}\n`)
    await fh.sync()
  } finally {
    await fh.close()
  }
  return file
}
