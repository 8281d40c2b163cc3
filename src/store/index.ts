/**
 * Versioned objects and watch streams. Persistence is an adapter: WAL + snapshot in a data
 * dir by default, memory-only for tests; a real etcd can implement ObjectStore later.
 */
export * from './types.js'
export { StoreError, isStoreError, type StoreErrorReason, type FileLocation } from './store-error.js'
export { keyOf, formatKey, parseKey } from './object-key.js'
export { deepFreeze } from './deep-freeze.js'
export { VersionedStore, type StoreOptions, type SkippedObject } from './versioned-store.js'
export { defaultQuotaBytes } from './state-size.js'
export { scanWal } from './wal-persistence.js'
export { describeDamage } from './wal-scan.js'
export { ensurePrivateDir, openPrivate, copyPrivate, writePrivateFile, privateDirMode, privateFileMode } from './private-files.js'
export { WalPersistence, walFileName, snapshotFileName, type WalOptions } from './wal-persistence.js'
export type { Persistence, LoadedState, SnapshotSource } from './persistence.js'
export { memoryPersistence } from './persistence.js'
export { encodeLine, encodeRecordLine, decodeLine, type WalRecord, type Snapshot, type PersistedOp } from './wal-record.js'
export { decodeLog, WalScanner, type DecodedLog, type LogDamage, type ScanResult } from './wal-scan.js'
export { readFileLines, splitBuffer, type FileLine } from './line-reader.js'
export { openDurableStore, openMemoryStore, type OpenStoreOptions } from './open-store.js'
export { inspectStore, repairStore, type StoreInspection, type StoreRepair } from './store-repair.js'
