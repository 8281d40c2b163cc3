/**
 * WAL and snapshot line format, pure: one JSON object per line, `{"crc":"<crc32 hex>","rec":…}`,
 * where the checksum covers the exact bytes of `rec`. Whether a bad line is a torn tail or
 * corruption is decided by wal-scan.ts.
 */
import { crc32 } from 'node:zlib'
import type { KubeObject } from './types.js'

export type PersistedOp =
  | { readonly t: 'put'; readonly k: string; readonly rv: number; readonly o: KubeObject }
  | { readonly t: 'del'; readonly k: string; readonly rv: number }

/** One committed transaction; `rv` is the resourceVersion of its last op. */
export interface WalRecord {
  readonly rv: number
  readonly ops: readonly PersistedOp[]
  /**
   * Byte offset in wal.log where the group commit holding this record starts. A crash can tear
   * only the last group commit, so this tells a torn tail from corruption. Absent in old logs.
   */
  readonly b?: number
}

export interface Snapshot {
  readonly rv: number
  readonly objects: readonly (readonly [key: string, object: KubeObject])[]
}

const prefix = '{"crc":"'
const middle = '","rec":'
const headerLength = prefix.length + 8 + middle.length

export function encodeLine(rec: unknown): string {
  return encodeBodyLine(JSON.stringify(rec))
}

/**
 * A WAL record's line from its ops already serialized (the caller serializes them when the write
 * arrives, and learns the group commit's offset `b` only when the batch is flushed).
 */
export function encodeRecordLine(rv: number, batchStart: number, opsJson: string): string {
  return encodeBodyLine(`{"rv":${rv},"b":${batchStart},"ops":${opsJson}}`)
}

function encodeBodyLine(body: string): string {
  const crc = crc32(body).toString(16).padStart(8, '0')
  return `${prefix}${crc}${middle}${body}}\n`
}

/** Parses one line without its newline; undefined if torn or corrupt. */
export function decodeLine(line: string): unknown {
  if (line.length < headerLength + 1 || !line.startsWith(prefix) || !line.endsWith('}')) return undefined
  const crc = line.slice(prefix.length, prefix.length + 8)
  if (line.slice(prefix.length + 8, headerLength) !== middle) return undefined
  const body = line.slice(headerLength, -1)
  if (crc32(body).toString(16).padStart(8, '0') !== crc) return undefined
  try {
    return JSON.parse(body) as unknown
  } catch {
    return undefined
  }
}

export function isWalRecord(x: unknown): x is WalRecord {
  return typeof x === 'object' && x !== null && typeof (x as WalRecord).rv === 'number' && Array.isArray((x as WalRecord).ops)
}

export function isSnapshot(x: unknown): x is Snapshot {
  return typeof x === 'object' && x !== null && typeof (x as Snapshot).rv === 'number' && Array.isArray((x as Snapshot).objects)
}
