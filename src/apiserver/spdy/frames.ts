/**
 * SPDY/3.1 frames as values (draft-mbelshe-httpbis-spdy-00 section 2.2, plus 3.1's session
 * WINDOW_UPDATE): encodeFrame writes one, SpdyFrameParser reads them from a byte stream cut
 * anywhere, as an explicit state machine (need the 8-byte head, then need the payload). Header
 * blocks stay compressed here; header-compression.ts owns the zlib contexts. Pure.
 */
import { assertNever } from '../../errors.js'

export const spdyVersion = 3

/** Control frame types (section 2.6). */
export const frameType = {
  synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goaway: 7, headers: 8, windowUpdate: 9,
} as const

export const flagFin = 0x01
export const flagUnidirectional = 0x02

/** RST_STREAM status codes (section 2.6.3). */
export const rstStatus = {
  protocolError: 1, invalidStream: 2, refusedStream: 3, unsupportedVersion: 4, cancel: 5, internalError: 6,
  flowControlError: 7, streamInUse: 8, streamAlreadyClosed: 9, frameTooLarge: 11,
} as const

/** GOAWAY status codes (section 2.6.6). */
export const goawayStatus = { ok: 0, protocolError: 1, internalError: 2 } as const

/** The 24-bit length field's limit. */
export const maxFrameLength = 0xffffff

export interface SettingsEntry { readonly flags: number; readonly id: number; readonly value: number }

export type SpdyFrame =
  | { readonly kind: 'data'; readonly streamId: number; readonly flags: number; readonly data: Buffer }
  | { readonly kind: 'syn-stream'; readonly streamId: number; readonly associatedStreamId: number; readonly priority: number; readonly slot: number; readonly flags: number; readonly headerBlock: Buffer }
  | { readonly kind: 'syn-reply'; readonly streamId: number; readonly flags: number; readonly headerBlock: Buffer }
  | { readonly kind: 'rst-stream'; readonly streamId: number; readonly status: number }
  | { readonly kind: 'settings'; readonly flags: number; readonly entries: readonly SettingsEntry[] }
  | { readonly kind: 'ping'; readonly id: number }
  | { readonly kind: 'goaway'; readonly lastGoodStreamId: number; readonly status: number }
  | { readonly kind: 'headers'; readonly streamId: number; readonly flags: number; readonly headerBlock: Buffer }
  | { readonly kind: 'window-update'; readonly streamId: number; readonly delta: number }
  /** A control frame of a type this version does not define: the spec says ignore it. */
  | { readonly kind: 'unknown-control'; readonly type: number; readonly flags: number; readonly payload: Buffer }

/** A stream of bytes that is not SPDY/3: the connection must go away with PROTOCOL_ERROR. */
export class SpdyProtocolError extends Error {}

const streamIdMask = 0x7fffffff
const headLength = 8

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(headLength)
  head.writeUInt16BE(0x8000 | spdyVersion, 0)
  head.writeUInt16BE(type, 2)
  head.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4)
  return Buffer.concat([head, payload])
}

function words(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4)
  values.forEach((v, i) => out.writeUInt32BE(v >>> 0, i * 4))
  return out
}

export function encodeFrame(f: SpdyFrame): Buffer {
  switch (f.kind) {
    case 'data': {
      if (f.data.length > maxFrameLength) throw new RangeError(`DATA payload of ${f.data.length} bytes exceeds the 24-bit length`)
      const head = Buffer.alloc(headLength)
      head.writeUInt32BE(f.streamId & streamIdMask, 0)
      head.writeUInt32BE(((f.flags & 0xff) << 24 | f.data.length) >>> 0, 4)
      return Buffer.concat([head, f.data])
    }
    case 'syn-stream': {
      const fixed = Buffer.alloc(10)
      fixed.writeUInt32BE(f.streamId & streamIdMask, 0)
      fixed.writeUInt32BE(f.associatedStreamId & streamIdMask, 4)
      fixed.writeUInt8((f.priority & 0x7) << 5, 8)
      fixed.writeUInt8(f.slot & 0xff, 9)
      return control(frameType.synStream, f.flags, Buffer.concat([fixed, f.headerBlock]))
    }
    case 'syn-reply':
      return control(frameType.synReply, f.flags, Buffer.concat([words(f.streamId & streamIdMask), f.headerBlock]))
    case 'headers':
      return control(frameType.headers, f.flags, Buffer.concat([words(f.streamId & streamIdMask), f.headerBlock]))
    case 'rst-stream':
      return control(frameType.rstStream, 0, words(f.streamId & streamIdMask, f.status))
    case 'settings': {
      const body = Buffer.alloc(4 + 8 * f.entries.length)
      body.writeUInt32BE(f.entries.length, 0)
      f.entries.forEach((e, i) => {
        body.writeUInt32BE(((e.flags & 0xff) << 24 | (e.id & 0xffffff)) >>> 0, 4 + 8 * i)
        body.writeUInt32BE(e.value >>> 0, 8 + 8 * i)
      })
      return control(frameType.settings, f.flags, body)
    }
    case 'ping':
      return control(frameType.ping, 0, words(f.id))
    case 'goaway':
      return control(frameType.goaway, 0, words(f.lastGoodStreamId & streamIdMask, f.status))
    case 'window-update':
      return control(frameType.windowUpdate, 0, words(f.streamId & streamIdMask, f.delta & streamIdMask))
    case 'unknown-control':
      return control(f.type, f.flags, f.payload)
    default:
      return assertNever(f)
  }
}

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new SpdyProtocolError(`${what} frame of ${payload.length} bytes is shorter than ${n}`)
}

/** One frame from its 8-byte head and its whole payload. */
export function decodeFrame(head: Buffer, payload: Buffer): SpdyFrame {
  const flags = head.readUInt8(4)
  if ((head.readUInt8(0) & 0x80) === 0) return { kind: 'data', streamId: head.readUInt32BE(0) & streamIdMask, flags, data: payload }
  const version = head.readUInt16BE(0) & 0x7fff
  if (version !== spdyVersion) throw new SpdyProtocolError(`SPDY version ${version} is not supported (want ${spdyVersion})`)
  const type = head.readUInt16BE(2)
  const streamId = (): number => payload.readUInt32BE(0) & streamIdMask
  switch (type) {
    case frameType.synStream:
      need(payload, 10, 'SYN_STREAM')
      return {
        kind: 'syn-stream', streamId: streamId(), associatedStreamId: payload.readUInt32BE(4) & streamIdMask,
        priority: payload.readUInt8(8) >> 5, slot: payload.readUInt8(9), flags, headerBlock: payload.subarray(10),
      }
    case frameType.synReply:
      need(payload, 4, 'SYN_REPLY')
      return { kind: 'syn-reply', streamId: streamId(), flags, headerBlock: payload.subarray(4) }
    case frameType.headers:
      need(payload, 4, 'HEADERS')
      return { kind: 'headers', streamId: streamId(), flags, headerBlock: payload.subarray(4) }
    case frameType.rstStream:
      need(payload, 8, 'RST_STREAM')
      return { kind: 'rst-stream', streamId: streamId(), status: payload.readUInt32BE(4) }
    case frameType.settings: {
      need(payload, 4, 'SETTINGS')
      const count = payload.readUInt32BE(0)
      need(payload, 4 + 8 * count, 'SETTINGS')
      const entries: SettingsEntry[] = []
      for (let i = 0; i < count; i++) {
        const idFlags = payload.readUInt32BE(4 + 8 * i)
        entries.push({ flags: idFlags >>> 24, id: idFlags & 0xffffff, value: payload.readUInt32BE(8 + 8 * i) })
      }
      return { kind: 'settings', flags, entries }
    }
    case frameType.ping:
      need(payload, 4, 'PING')
      return { kind: 'ping', id: payload.readUInt32BE(0) }
    case frameType.goaway:
      need(payload, 8, 'GOAWAY')
      return { kind: 'goaway', lastGoodStreamId: streamId(), status: payload.readUInt32BE(4) }
    case frameType.windowUpdate:
      need(payload, 8, 'WINDOW_UPDATE')
      return { kind: 'window-update', streamId: streamId(), delta: payload.readUInt32BE(4) & streamIdMask }
    default:
      return { kind: 'unknown-control', type, flags, payload }
  }
}

/**
 * Bytes in, whole frames out, whatever the chunking: push() buffers a partial frame until the
 * rest arrives and returns every frame the bytes so far complete, in order.
 */
export class SpdyFrameParser {
  readonly #chunks: Buffer[] = []
  #buffered = 0
  /** undefined: waiting for a frame head; else waiting for this head's payload. */
  #head: Buffer | undefined

  push(chunk: Buffer): SpdyFrame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk)
      this.#buffered += chunk.length
    }
    const frames: SpdyFrame[] = []
    for (;;) {
      if (this.#head === undefined) {
        if (this.#buffered < headLength) return frames
        this.#head = this.#take(headLength)
      }
      const length = this.#head.readUInt32BE(4) & 0xffffff
      if (this.#buffered < length) return frames
      const head = this.#head
      this.#head = undefined
      frames.push(decodeFrame(head, this.#take(length)))
    }
  }

  /** Bytes held back as part of an incomplete frame. */
  get pending(): number {
    return this.#buffered + (this.#head?.length ?? 0)
  }

  #take(n: number): Buffer {
    this.#buffered -= n
    const first = this.#chunks[0]
    if (first !== undefined && first.length >= n) {
      // The common case (a whole frame inside one chunk) copies nothing.
      if (first.length === n) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(n)
      return first.subarray(0, n)
    }
    const out = Buffer.allocUnsafe(n)
    let at = 0
    while (at < n) {
      const c = this.#chunks[0]!
      const used = Math.min(c.length, n - at)
      c.copy(out, at, 0, used)
      at += used
      if (used === c.length) this.#chunks.shift()
      else this.#chunks[0] = c.subarray(used)
    }
    return out
  }
}
