/**
 * Values as kube-apiserver writes them to etcd: the "k8s\x00" protobuf envelope for kinds with a
 * message, JSON otherwise (custom resources, CRDs). resourceVersion is not stored: it is the
 * key's mod revision, set again on read. Pure.
 */
import { decodeProtobufObject, encodeProtobufObject, protobufMagic } from '../../api/index.js'
import type { KubeObject } from '../types.js'
import { jsonStoredGroups } from './key-layout.js'

export type ValueEncoding = 'protobuf' | 'json'

export interface EncodedValue {
  readonly bytes: Buffer
  readonly encoding: ValueEncoding
}

/**
 * Protobuf when the kind has a message and the round trip loses nothing but what protobuf never
 * carries (empty values, sub-second digits of a seconds timestamp: kube-apiserver drops them too);
 * JSON when it would lose more (a field the message has no place for), so no data is ever lost.
 */
export function encodeStoredValue(object: KubeObject): EncodedValue {
  const bare = withoutResourceVersion(object)
  const group = typeof object.apiVersion === 'string' && object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] ?? '' : ''
  if (!jsonStoredGroups.has(group)) {
    const proto = tryProtobuf(bare)
    if (proto !== undefined) return { bytes: proto, encoding: 'protobuf' }
  }
  return { bytes: Buffer.from(JSON.stringify(bare)), encoding: 'json' }
}

/** The stored object with resourceVersion = the key's mod revision. Throws on bytes that are neither form. */
export function decodeStoredValue(bytes: Uint8Array, modRevision: number): KubeObject {
  const isProto = bytes.length >= 4 && Buffer.from(bytes.subarray(0, 4)).equals(protobufMagic)
  const parsed: unknown = isProto ? decodeProtobufObject(bytes) : JSON.parse(Buffer.from(bytes).toString('utf8'))
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the value is not a JSON object')
  const obj = parsed as Record<string, unknown>
  const meta = obj['metadata']
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new Error('the value has no metadata')
  return { ...obj, metadata: { ...(meta as Record<string, unknown>), resourceVersion: String(modRevision) } } as KubeObject
}

function tryProtobuf(bare: KubeObject): Buffer | undefined {
  try {
    const bytes = encodeProtobufObject(bare)
    if (bytes === undefined) return undefined
    return sameUpToProtobufDefaults(bare, decodeProtobufObject(bytes)) ? bytes : undefined
  } catch {
    return undefined
  }
}

function withoutResourceVersion(object: KubeObject): KubeObject {
  const { resourceVersion: _rv, ...metadata } = object.metadata
  return { ...object, metadata }
}

/**
 * `written` and `read` (its protobuf round trip) hold the same data: equal, or differing only
 * where protobuf's zero values stand in for an absent field ('', 0, false, [], {}, null), or in a
 * timestamp's fraction of a second (metav1.Time is whole seconds on the wire).
 */
export function sameUpToProtobufDefaults(written: unknown, read: unknown): boolean {
  if (written === read) return true
  if (read === undefined) return isZeroValue(written)
  if (typeof written === 'string' && typeof read === 'string') return sameSecond(written, read)
  if (Array.isArray(written) || Array.isArray(read)) {
    return Array.isArray(written) && Array.isArray(read) && written.length === read.length && written.every((w, i) => sameUpToProtobufDefaults(w, read[i]))
  }
  if (typeof written !== 'object' || typeof read !== 'object' || written === null || read === null) return false
  const w = written as Record<string, unknown>
  const r = read as Record<string, unknown>
  for (const k of Object.keys(r)) if (!(k in w) && !isZeroValue(r[k])) return false
  return Object.keys(w).every((k) => sameUpToProtobufDefaults(w[k], r[k]))
}

function isZeroValue(v: unknown): boolean {
  if (v === null || v === '' || v === 0 || v === false) return true
  if (Array.isArray(v)) return v.length === 0
  return typeof v === 'object' && v !== null && Object.values(v).every(isZeroValue)
}

const rfc3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$/

function sameSecond(written: string, read: string): boolean {
  const w = rfc3339.exec(written)
  const r = rfc3339.exec(read)
  // MicroTime keeps microseconds, Time none: the read fraction is the written one, cut short
  return w !== null && r !== null && w[1] === r[1] && (r[2] === undefined || Math.abs(Number(`0${r[2]}`) - Number(`0${w[2] ?? ''}`)) < 1e-6)
}
