/**
 * Entry points: a durable store over a data dir (WAL + snapshots) or a memory-only one.
 * Wires the WAL's compaction to the store's committed snapshot.
 */
import { VersionedStore } from './versioned-store.js'
import { WalPersistence } from './wal-persistence.js'

export interface OpenStoreOptions {
  readonly dataDir: string
  readonly compactAfterBytes?: number
  readonly historySize?: number
  readonly onWarning?: (message: string) => void
}

export async function openDurableStore(opts: OpenStoreOptions): Promise<VersionedStore> {
  const wal = new WalPersistence({ dir: opts.dataDir, ...(opts.compactAfterBytes === undefined ? {} : { compactAfterBytes: opts.compactAfterBytes }) })
  const store = await VersionedStore.open({
    persistence: wal,
    ...(opts.historySize === undefined ? {} : { historySize: opts.historySize }),
    ...(opts.onWarning === undefined ? {} : { onWarning: opts.onWarning }),
  })
  wal.setSnapshotSource(() => store.snapshot())
  return store
}

export function openMemoryStore(opts: { historySize?: number } = {}): Promise<VersionedStore> {
  return VersionedStore.open(opts.historySize === undefined ? {} : { historySize: opts.historySize })
}
