/**
 * The two header-block zlib contexts of a SPDY/3 connection (section 2.6.10.1), one per
 * direction, each living as long as the connection.
 * - Inbound: one persistent inflate with the SPDY/3 dictionary, sync-flushed per frame, as the
 *   peer's deflate flushes per frame.
 * - Outbound: no compression is needed, so each block is sent as deflate *stored* blocks, after
 *   the zlib header once. Each is followed by an empty stored block (`00 00 00 ff ff`, a sync
 *   flush marker): without it Go's flate reader reads past the frame's end waiting for the next
 *   block header, and the next SYN_REPLY on the connection fails to decode
 *   (../shared/KUBECTL-COMPAT.md section 3.8).
 */
import { constants, createInflate, type Inflate } from 'node:zlib'
import { spdy3Dictionary } from './dictionary.js'
import { SpdyProtocolError } from './frames.js'

/** CMF 0x78 (deflate, 32 KiB window), FLG 0x01: no preset dictionary, a valid FCHECK. */
const zlibHeader = Buffer.from([0x78, 0x01])
const syncFlushMarker = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff])
const maxStoredBlock = 0xffff
/** The most one inbound header block may inflate to; a few KiB compress to gigabytes otherwise. */
export const maxInflatedHeaderBlock = 1 << 20

function storedBlock(data: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt8(0x00, 0) // BFINAL 0, BTYPE 00 (stored); we are always on a byte boundary
  head.writeUInt16LE(data.length, 1)
  head.writeUInt16LE(~data.length & 0xffff, 3)
  return Buffer.concat([head, data])
}

/** Outbound header blocks as a zlib stream of stored blocks. Pure apart from its one flag. */
export class StoredHeaderCompressor {
  #started = false

  compress(raw: Buffer): Buffer {
    const parts: Buffer[] = []
    if (!this.#started) {
      parts.push(zlibHeader)
      this.#started = true
    }
    for (let at = 0; at < raw.length; at += maxStoredBlock) parts.push(storedBlock(raw.subarray(at, at + maxStoredBlock)))
    parts.push(syncFlushMarker)
    return Buffer.concat(parts)
  }
}

/**
 * Inbound header blocks through one zlib inflate context with the SPDY/3 dictionary. Calls must
 * not overlap (the connection awaits each before the next frame). After a failure every call
 * rejects: the context is lost and so is the connection. A block that inflates past
 * maxInflatedHeaderBlock is such a failure (a SpdyProtocolError); inflating stops there.
 */
export class HeaderBlockInflater {
  readonly #inflate: Inflate = createInflate({ dictionary: spdy3Dictionary })
  #out: Buffer[] = []
  #outLength = 0
  #failure: Error | undefined
  #reject: ((e: Error) => void) | undefined

  constructor() {
    this.#inflate.on('data', (chunk: Buffer) => {
      if (this.#failure) return
      this.#outLength += chunk.length
      if (this.#outLength <= maxInflatedHeaderBlock) return void this.#out.push(chunk)
      this.#out = []
      this.#fail(new SpdyProtocolError(`a header block inflates to more than ${maxInflatedHeaderBlock} bytes`))
      this.#inflate.destroy()
    })
    this.#inflate.on('error', (e: Error) => this.#fail(e))
  }

  #fail(e: Error): void {
    this.#failure = e
    this.#reject?.(e)
  }

  inflate(block: Buffer): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure)
    return new Promise((resolve, reject) => {
      this.#reject = reject
      this.#inflate.write(block)
      // Output of a flushed write is emitted before the flush's callback runs.
      this.#inflate.flush(constants.Z_SYNC_FLUSH, () => {
        this.#reject = undefined
        if (this.#failure) return reject(this.#failure)
        const out = Buffer.concat(this.#out)
        this.#out = []
        this.#outLength = 0
        resolve(out)
      })
    })
  }

  close(): void {
    this.#inflate.close()
  }
}
