/**
 * Offline inspection and repair of a store directory (for `kpe store check` and `kpe store
 * repair`): a read-only verdict on snapshot.json and wal.log, and a repair that backs up wal.log
 * and cuts it back to the records before the first damaged one.
 */
import { open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { copyPrivate } from './private-files.js'
import { readSnapshotFile, snapshotFileName } from './snapshot-file.js'
import { StoreError } from './store-error.js'
import { scanWal, walFileName } from './wal-persistence.js'
import type { LogDamage } from './wal-scan.js'

export interface StoreInspection {
  readonly dir: string
  readonly snapshot: { readonly resourceVersion: number; readonly objects: number } | undefined
  readonly walBytes: number
  /** resourceVersions of the first and last readable records before any damage. */
  readonly records: { readonly count: number; readonly first: number | undefined; readonly last: number | undefined }
  readonly validBytes: number
  readonly damage: LogDamage | undefined
}

export interface StoreRepair {
  readonly inspection: StoreInspection
  /** Where wal.log was copied before it was cut; undefined when nothing needed repair. */
  readonly backup: string | undefined
}

/** Reads without writing anything. A damaged snapshot throws StoreError 'Corrupt'. */
export async function inspectStore(dir: string): Promise<StoreInspection> {
  try {
    await stat(dir)
  } catch {
    throw new StoreError('NotFound', `${dir}: no store here`)
  }
  const snap = await readSnapshotFile(dir)
  const walPath = join(dir, walFileName)
  let fh
  try {
    fh = await open(walPath, 'r')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    return { dir, snapshot: snap && { resourceVersion: snap.rv, objects: snap.objects.length }, walBytes: 0, records: { count: 0, first: undefined, last: undefined }, validBytes: 0, damage: undefined }
  }
  try {
    const scan = await scanWal(fh)
    return {
      dir,
      snapshot: snap && { resourceVersion: snap.rv, objects: snap.objects.length },
      walBytes: (await fh.stat()).size,
      records: { count: scan.records.length, first: scan.records[0]?.rv, last: scan.records.at(-1)?.rv },
      validBytes: scan.validBytes,
      damage: scan.damage,
    }
  } finally {
    await fh.close()
  }
}

/** Backs wal.log up (0600, `wal.log.corrupt-<time>`), then keeps only the records before the damage. */
export async function repairStore(dir: string, now: Date): Promise<StoreRepair> {
  const inspection = await inspectStore(dir)
  if (!inspection.damage) return { inspection, backup: undefined }
  const walPath = join(dir, walFileName)
  const backup = `${walPath}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`
  await copyPrivate(walPath, backup)
  const fh = await open(walPath, 'r+')
  try {
    await fh.truncate(inspection.validBytes)
    await fh.datasync()
  } finally {
    await fh.close()
  }
  return { inspection, backup }
}
