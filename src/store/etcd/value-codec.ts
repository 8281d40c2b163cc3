/**
 * Values as kube-apiserver writes them to etcd: the "k8s\x00" protobuf envelope for kinds with a
 * message, JSON otherwise (custom resources, CRDs). resourceVersion is not stored: it is the
 * key's mod revision, set again on read. Pure.
 */
import { isDeepStrictEqual } from 'node:util'
import { decodeProtobufObject, encodeProtobufObject, protobufMagic } from '../../api/index.js'
import type { KubeObject } from '../types.js'
import { jsonStoredGroups } from './key-layout.js'

export type ValueEncoding = 'protobuf' | 'json'

export interface EncodedValue {
  readonly bytes: Buffer
  readonly encoding: ValueEncoding
}

/**
 * Protobuf when the kind has a message and the object survives the round trip unchanged; JSON
 * when it would not (a field the message cannot carry), so that no stored field is ever lost.
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
    return isDeepStrictEqual(decodeProtobufObject(bytes), bare) ? bytes : undefined
  } catch {
    return undefined
  }
}

function withoutResourceVersion(object: KubeObject): KubeObject {
  const { resourceVersion: _rv, ...metadata } = object.metadata
  return { ...object, metadata }
}
