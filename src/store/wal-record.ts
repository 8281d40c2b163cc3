/**
 * WAL and snapshot line format, pure: one JSON object per line, `{"crc":"<crc32 hex>","rec":…}`,
 * where the checksum covers the exact bytes of `rec`. Decoding stops at the first torn or
 * corrupt line and reports how many bytes were valid, so the caller can truncate there.
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
}

export interface Snapshot {
  readonly rv: number
  readonly objects: readonly (readonly [key: string, object: KubeObject])[]
}

const prefix = '{"crc":"'
const middle = '","rec":'
const headerLength = prefix.length + 8 + middle.length

export function encodeLine(rec: unknown): string {
  const body = JSON.stringify(rec)
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

export interface DecodedLog {
  readonly records: WalRecord[]
  /** Byte length of the valid prefix; anything after it is a torn tail to truncate. */
  readonly validBytes: number
  readonly discardedBytes: number
}

export function decodeLog(buf: Buffer): DecodedLog {
  const records: WalRecord[] = []
  let offset = 0
  while (offset < buf.length) {
    const nl = buf.indexOf(0x0a, offset)
    if (nl < 0) break
    const rec = decodeLine(buf.toString('utf8', offset, nl))
    if (!isWalRecord(rec)) break
    records.push(rec)
    offset = nl + 1
  }
  return { records, validBytes: offset, discardedBytes: buf.length - offset }
}

function isWalRecord(x: unknown): x is WalRecord {
  return typeof x === 'object' && x !== null && typeof (x as WalRecord).rv === 'number' && Array.isArray((x as WalRecord).ops)
}

export function isSnapshot(x: unknown): x is Snapshot {
  return typeof x === 'object' && x !== null && typeof (x as Snapshot).rv === 'number' && Array.isArray((x as Snapshot).objects)
}
