/**
 * kube-apiserver's protobuf object encoding: the magic "k8s\x00", then a runtime.Unknown whose
 * typeMeta names apiVersion/kind and whose raw is the object's own message. Watch streams frame
 * each metav1.WatchEvent (without magic) behind a 4-byte big-endian length. Pure.
 */
import { ProtobufConversionError } from './conversion-error.js'
import { messageForKind } from './message-for-kind.js'
import { jsonToProto, protobufMagic, protoToJson } from './proto-json.js'
import { protoType } from './proto-types.js'

const unknownMessage = 'k8s.io.apimachinery.pkg.runtime.Unknown'
const watchEventMessage = 'k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent'
const toObjectOptions = { longs: Number, bytes: String, defaults: false } as const

function typeOf(name: string): NonNullable<ReturnType<typeof protoType>> {
  const t = protoType(name)
  if (!t) throw new Error(`no message ${name} in the API descriptor`)
  return t
}

function decodeMessage(name: string, bytes: Uint8Array, field: string): Record<string, unknown> {
  const t = typeOf(name)
  try {
    return t.toObject(t.decode(bytes), toObjectOptions) as Record<string, unknown>
  } catch (e) {
    throw new ProtobufConversionError(field, `cannot decode ${name.split('.').at(-1) ?? name}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * The JSON form of a protobuf-encoded object (apiVersion and kind first, from the envelope), as a
 * JSON body of the same object would read. Throws ProtobufConversionError when the body is not
 * one, its kind has no message, or a field has no JSON form.
 */
export function decodeProtobufObject(buf: Uint8Array): Record<string, unknown> {
  if (buf.length < 4 || !Buffer.from(buf.subarray(0, 4)).equals(protobufMagic)) {
    throw new ProtobufConversionError('', `provided data does not appear to be a protobuf message, expected prefix ${JSON.stringify([...protobufMagic])}`)
  }
  const unknown = decodeMessage(unknownMessage, buf.subarray(4), '')
  const typeMeta = (unknown['typeMeta'] ?? {}) as Record<string, unknown>
  const apiVersion = String(typeMeta['apiVersion'] ?? '')
  const kind = String(typeMeta['kind'] ?? '')
  const encoding = String(unknown['contentEncoding'] ?? '')
  if (encoding !== '') throw new ProtobufConversionError('', `content encoding ${JSON.stringify(encoding)} is not supported`)
  const name = messageForKind(apiVersion, kind)
  if (name === undefined) throw new ProtobufConversionError('', `no kind "${kind}" is registered for version "${apiVersion}"`)
  const raw = Buffer.from(String(unknown['raw'] ?? ''), 'base64')
  const body = protoToJson(name, decodeMessage(name, raw, ''), decodeProtobufObject)
  return { apiVersion, kind, ...body }
}

/** The message an object's apiVersion/kind encodes as, or undefined (answer it in JSON then). */
export function protobufMessageOf(object: Readonly<Record<string, unknown>>): string | undefined {
  const { apiVersion, kind } = object
  return typeof apiVersion === 'string' && typeof kind === 'string' ? messageForKind(apiVersion, kind) : undefined
}

/**
 * The raw message bytes of `object` as message `name` (no envelope). A value of the wrong JSON
 * type (never in a validated object) is a ProtobufConversionError, so callers can answer JSON.
 */
export function encodeMessage(name: string, object: Readonly<Record<string, unknown>>): Uint8Array {
  const t = typeOf(name)
  try {
    return t.encode(t.fromObject(jsonToProto(name, object))).finish()
  } catch (e) {
    if (e instanceof ProtobufConversionError) throw e
    throw new ProtobufConversionError('', `cannot encode ${name.split('.').at(-1) ?? name}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** magic + Unknown{typeMeta, raw} around already-encoded message bytes. */
export function encodeEnvelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const t = typeOf(unknownMessage)
  const unknown = t.encode(t.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish()
  return Buffer.concat([protobufMagic, unknown])
}

/** The whole protobuf encoding of an object, or undefined when its kind has no message. */
export function encodeProtobufObject(object: Readonly<Record<string, unknown>>): Buffer | undefined {
  const name = protobufMessageOf(object)
  if (name === undefined) return undefined
  return encodeEnvelope(String(object['apiVersion']), String(object['kind']), encodeMessage(name, object))
}

/**
 * One watch frame: 4-byte big-endian length, then WatchEvent{type, object: RawExtension{raw:
 * the object's full protobuf encoding}}. Undefined when the object's kind has no message.
 */
export function encodeWatchFrame(type: string, object: Readonly<Record<string, unknown>>): Buffer | undefined {
  const encoded = encodeProtobufObject(object)
  if (encoded === undefined) return undefined
  const t = typeOf(watchEventMessage)
  const event = t.encode(t.fromObject({ type, object: { raw: encoded } })).finish()
  const length = Buffer.alloc(4)
  length.writeUInt32BE(event.length)
  return Buffer.concat([length, event])
}

/** One watch event's body (the bytes after a frame's length): its type and the object as JSON. */
export function decodeWatchEvent(body: Uint8Array): { type: string; object: Record<string, unknown> } {
  const event = decodeMessage(watchEventMessage, body, '')
  const raw = Buffer.from(String((event['object'] as Record<string, unknown> | undefined)?.['raw'] ?? ''), 'base64')
  return { type: String(event['type'] ?? ''), object: decodeProtobufObject(raw) }
}
