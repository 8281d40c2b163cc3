/**
 * Versioned objects and watch streams. Persistence is an adapter: WAL + snapshot in a data
 * dir by default, memory-only for tests; a real etcd can implement ObjectStore later.
 */
export * from './types.js'
export { StoreError, isStoreError, type StoreErrorReason } from './store-error.js'
export { keyOf, formatKey, parseKey } from './object-key.js'
export { deepFreeze } from './deep-freeze.js'
export { VersionedStore, type StoreOptions } from './versioned-store.js'
export { WalPersistence, walFileName, snapshotFileName, type WalOptions } from './wal-persistence.js'
export type { Persistence, LoadedState, SnapshotSource } from './persistence.js'
export { memoryPersistence } from './persistence.js'
export { encodeLine, decodeLine, decodeLog, type WalRecord, type Snapshot, type PersistedOp } from './wal-record.js'
export { openDurableStore, openMemoryStore, type OpenStoreOptions } from './open-store.js'
