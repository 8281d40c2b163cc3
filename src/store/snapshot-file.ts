/**
 * snapshot.json as a stream of lines: a header `{v:2, rv, count}` and then one `{k, o}` line
 * per object, each with its own checksum, so neither writing nor reading needs one string of the
 * whole state. Written to a 0600 temp file, fsynced and renamed. Reads the older one-line form too.
 */
import { open, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { readFileLines, type FileLine } from './line-reader.js'
import { openPrivate } from './private-files.js'
import { StoreError } from './store-error.js'
import type { KubeObject } from './types.js'
import { decodeLine, encodeLine, isSnapshot, type Snapshot } from './wal-record.js'

export const snapshotFileName = 'snapshot.json'
const formatVersion = 2

interface SnapshotHeader {
  readonly v: typeof formatVersion
  readonly rv: number
  readonly count: number
}

export interface SnapshotFileOptions {
  /** Bytes gathered before each write call. Default 1 MiB. */
  readonly chunkBytes?: number
  readonly maxLineBytes?: number
}

export async function writeSnapshotFile(dir: string, snapshot: Snapshot, opts: SnapshotFileOptions = {}): Promise<void> {
  const chunkBytes = opts.chunkBytes ?? 1024 * 1024
  const tmp = join(dir, `${snapshotFileName}.tmp`)
  const fh = await openPrivate(tmp, 'w')
  try {
    const header: SnapshotHeader = { v: formatVersion, rv: snapshot.rv, count: snapshot.objects.length }
    let chunk = encodeLine(header)
    for (const [k, o] of snapshot.objects) {
      chunk += encodeLine({ k, o })
      if (chunk.length >= chunkBytes) {
        await fh.write(chunk)
        chunk = ''
      }
    }
    await fh.write(chunk)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, join(dir, snapshotFileName))
}

/** Undefined when there is no snapshot yet; StoreError 'Corrupt' naming the line otherwise. */
export async function readSnapshotFile(dir: string, opts: SnapshotFileOptions = {}): Promise<Snapshot | undefined> {
  const path = join(dir, snapshotFileName)
  let fh
  try {
    fh = await open(path, 'r')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  try {
    return await readLines(path, readFileLines(fh, opts.maxLineBytes === undefined ? {} : { maxLineBytes: opts.maxLineBytes }))
  } finally {
    await fh.close()
  }
}

async function readLines(path: string, lines: AsyncIterable<FileLine>): Promise<Snapshot | undefined> {
  const corrupt = (l: FileLine, why: string): StoreError => new StoreError('Corrupt',
    `${path}: ${why} at byte ${l.offset} (line ${l.line}); the snapshot is written atomically, so the disk or someone else changed it`,
    { location: { file: path, offset: l.offset, line: l.line } })
  let header: SnapshotHeader | undefined
  const objects: (readonly [string, KubeObject])[] = []
  for await (const l of lines) {
    const rec = l.terminated && l.bytes ? decodeLine(l.bytes.toString('utf8')) : undefined
    if (rec === undefined) throw corrupt(l, l.bytes ? 'checksum mismatch or unreadable line' : `line of ${l.length} bytes is too long`)
    if (header === undefined) {
      // the one-line form written before the streaming format
      if (isSnapshot(rec) && l.line === 1) return rec
      if (!isHeader(rec)) throw corrupt(l, 'not a snapshot header')
      header = rec
      continue
    }
    if (!isEntry(rec)) throw corrupt(l, 'not a snapshot entry')
    if (objects.length >= header.count) throw corrupt(l, `more than the ${header.count} objects the header announces`)
    // an object newer than the snapshot would let the next write reuse its resourceVersion
    const objectRv = rec.o.metadata?.resourceVersion
    if (typeof objectRv === 'string' && Number(objectRv) > header.rv) throw corrupt(l, `object resourceVersion ${objectRv} is above the snapshot's ${header.rv}`)
    objects.push([rec.k, rec.o])
  }
  if (header === undefined) throw new StoreError('Corrupt', `${path}: empty snapshot`, { location: { file: path, offset: 0, line: 1 } })
  if (objects.length !== header.count) {
    throw new StoreError('Corrupt', `${path}: holds ${objects.length} objects, its header announces ${header.count}`, { location: { file: path, offset: 0, line: 1 } })
  }
  return { rv: header.rv, objects }
}

function isHeader(x: unknown): x is SnapshotHeader {
  const h = x as SnapshotHeader
  return typeof x === 'object' && x !== null && h.v === formatVersion && typeof h.rv === 'number' && typeof h.count === 'number'
}

function isEntry(x: unknown): x is { k: string; o: KubeObject } {
  const e = x as { k: unknown; o: unknown }
  return typeof x === 'object' && x !== null && typeof e.k === 'string' && typeof e.o === 'object' && e.o !== null
}
