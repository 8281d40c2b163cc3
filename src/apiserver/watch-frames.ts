/**
 * How one watch event goes on the wire: a JSON line, or (for clients that asked for protobuf) a
 * 4-byte big-endian length and a metav1.WatchEvent whose object is the full k8s envelope.
 */
import { encodeWatchFrame, ProtobufConversionError } from '../api/index.js'
import { ApiError } from './api-error.js'
import { isPlainObject } from './patch/index.js'

export type WatchFrame = (event: unknown) => string | Buffer

export const jsonWatchFrame: WatchFrame = (ev) => `${JSON.stringify(ev)}\n`

/**
 * The stream is protobuf only for kinds with a message (BOOKMARKs carry that kind, ERRORs a
 * Status). An object protobuf cannot carry becomes an ERROR event, as kube-apiserver reports an
 * encoding failure on a watch; the client lists and watches again.
 */
export const protobufWatchFrame: WatchFrame = (ev) => {
  const { type, object } = ev as { type: string; object: Record<string, unknown> }
  try {
    const frame = encodeWatchFrame(type, object)
    if (frame !== undefined) return frame
  } catch (e) {
    if (!(e instanceof ProtobufConversionError)) throw e
  }
  const name = isPlainObject(object['metadata']) ? String(object['metadata']['name']) : ''
  const status = new ApiError(500, 'InternalError', `${String(object['kind'])} "${name}" cannot be encoded as protobuf`).toStatus()
  return encodeWatchFrame('ERROR', status as unknown as Record<string, unknown>)!
}
