/**
 * The persistence adapter seam between the in-memory store and a durable medium. The store
 * stays correct with any implementation: it applies a write only after `append` resolves.
 */
import type { Snapshot, WalRecord } from './wal-record.js'

export interface LoadedState {
  readonly snapshot: Snapshot | undefined
  /** Records after the snapshot, in order. */
  readonly records: readonly WalRecord[]
  readonly warnings: readonly string[]
}

export interface Persistence {
  load(): Promise<LoadedState>
  /** Resolves once the record is durable. Records are durable in the order they were appended. */
  append(record: WalRecord): Promise<void>
  close(): Promise<void>
}

/** Supplies a snapshot of committed state for log compaction. */
export type SnapshotSource = () => Snapshot

export function memoryPersistence(): Persistence {
  return {
    load: () => Promise.resolve({ snapshot: undefined, records: [], warnings: [] }),
    append: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }
}
