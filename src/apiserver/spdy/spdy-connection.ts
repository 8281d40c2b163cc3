/**
 * The server side of a SPDY/3.1 connection, as Kubernetes' httpstream uses it (moby/spdystream):
 * the client opens every stream; each accepted SYN_STREAM gets a SYN_REPLY with an empty header
 * block, each stream is a Node Duplex (DATA in and out, FIN as end), PING is echoed, SETTINGS
 * and WINDOW_UPDATE are ignored (spdystream does no flow control either), RST_STREAM destroys a
 * stream, GOAWAY refuses new ones. Frames are handled strictly in order; only header blocks wait
 * (for zlib). A full stream buffer pauses the whole transport, as spdystream's frame loop does,
 * until the stream is read or gets its FIN. At most maxStreams streams are open at once.
 */
import { Duplex } from 'node:stream'
import { assertNever } from '../../errors.js'
import { decodeHeaderBlock, encodeHeaderBlock, type SpdyHeaders } from './header-block.js'
import { HeaderBlockInflater, StoredHeaderCompressor } from './header-compression.js'
import { encodeFrame, flagFin, goawayStatus, rstStatus, SpdyFrameParser, type SpdyFrame } from './frames.js'

/** DATA payloads we send are cut to this size. */
const maxDataPayload = 32 * 1024
const noHeaders: SpdyHeaders = new Map()

export interface SpdyConnectionOptions {
  /** A reason to refuse a new stream (it is reset with CANCEL, as httpstream rejects one), or undefined to accept it. */
  readonly validate?: (headers: SpdyHeaders) => string | undefined
  /** An accepted stream, called after its SYN_REPLY was written. */
  readonly onStream: (stream: SpdyStream) => void
  /** Diagnostics: refused streams, protocol errors. */
  readonly log?: (line: string) => void
  /** The connection is gone (its streams were reset just before); called once. */
  readonly onClose?: () => void
  /** Streams open at once; one more is reset with REFUSED_STREAM. Default defaultMaxStreams. */
  readonly maxStreams?: number
}

/** Generous: kubectl port-forward holds two streams per forwarded connection. */
export const defaultMaxStreams = 1024

/** One client-opened stream. Writing sends DATA; end() sends FIN; destroy() before both FINs sends RST_STREAM CANCEL. */
export class SpdyStream extends Duplex {
  readonly id: number
  readonly headers: SpdyHeaders
  readonly #conn: SpdyServerConnection
  #remoteClosed = false
  #localClosed = false
  #resetReason: string | undefined

  constructor(conn: SpdyServerConnection, id: number, headers: SpdyHeaders) {
    super({ allowHalfOpen: true })
    this.#conn = conn
    this.id = id
    this.headers = headers
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#conn.sendData(this.id, chunk, 0, callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#localClosed = true
    this.#conn.sendData(this.id, Buffer.alloc(0), flagFin, callback)
    this.#settleIfDone()
  }

  override _read(): void {
    this.#conn.unblock(this)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#resetReason === undefined && !(this.#localClosed && this.#remoteClosed)) this.#conn.sendReset(this.id, rstStatus.cancel)
    this.#conn.forget(this)
    callback(error)
  }

  // receive and resetByPeer are called by the connection only.

  /** DATA from the peer; false when the reader wants no more for now. */
  receive(data: Buffer, isFin: boolean): boolean {
    const more = data.length > 0 ? this.push(data) : true
    if (!isFin) return more
    this.#remoteClosed = true
    this.push(null)
    this.#settleIfDone()
    // Readable never calls _read after push(null), so a stream blocked now would never unblock;
    // nothing more can arrive on it, so what it buffers is bounded and the transport can go on.
    this.#conn.unblock(this)
    return true
  }

  get isRemoteClosed(): boolean {
    return this.#remoteClosed
  }

  /** Why the peer reset the stream, or the connection went away under it; undefined otherwise. */
  get resetReason(): string | undefined {
    return this.#resetReason
  }

  /** Destroys the stream without an error event (readers see 'close'); no RST goes back. */
  resetByPeer(reason: string): void {
    this.#resetReason = reason
    this.destroy()
  }

  #settleIfDone(): void {
    if (this.#localClosed && this.#remoteClosed) this.#conn.forget(this)
  }
}

export class SpdyServerConnection {
  readonly #transport: Duplex
  readonly #opts: SpdyConnectionOptions
  readonly #parser = new SpdyFrameParser()
  readonly #inflater = new HeaderBlockInflater()
  readonly #compressor = new StoredHeaderCompressor()
  readonly #streams = new Map<number, SpdyStream>()
  readonly #blocked = new Set<SpdyStream>()
  readonly #queue: SpdyFrame[] = []
  #drainWaiters: (() => void)[] = []
  #lastStreamId = 0
  #pumping = false
  #goingAway = false
  /** The client ended its side: shut down once the frames already read are handled. */
  #ended = false
  #closed = false

  constructor(transport: Duplex, opts: SpdyConnectionOptions) {
    this.#transport = transport
    this.#opts = opts
    transport.on('data', (chunk: Buffer) => this.#onBytes(chunk))
    transport.on('drain', () => {
      const waiters = this.#drainWaiters
      this.#drainWaiters = []
      for (const w of waiters) w()
    })
    transport.on('error', (e: Error) => this.#opts.log?.(`spdy transport: ${e.message}`))
    transport.on('end', () => {
      this.#ended = true
      if (!this.#pumping) this.#shutdown('the client closed the connection')
    })
    transport.on('close', () => this.#shutdown('the connection closed'))
  }

  /** Streams open now (for tests and diagnostics). */
  get openStreams(): number {
    return this.#streams.size
  }

  close(): void {
    if (this.#closed) return
    this.#send({ kind: 'goaway', lastGoodStreamId: this.#lastStreamId, status: goawayStatus.ok })
    this.#shutdown('the server closed the connection')
  }

  // sendData, sendReset, forget and unblock are SpdyStream's way back to its connection.

  sendData(streamId: number, data: Buffer, flags: number, callback: (error?: Error | null) => void): void {
    if (this.#closed) return callback(new Error('the SPDY connection is closed'))
    let ok = true
    let at = 0
    do {
      const slice = data.subarray(at, at + maxDataPayload)
      at += slice.length
      ok = this.#transport.write(encodeFrame({ kind: 'data', streamId, flags: at >= data.length ? flags : 0, data: slice }))
    } while (at < data.length)
    if (ok) callback()
    else this.#drainWaiters.push(() => callback())
  }

  sendReset(streamId: number, status: number): void {
    this.#send({ kind: 'rst-stream', streamId, status })
  }

  forget(stream: SpdyStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id)
    this.unblock(stream)
    if (this.#goingAway && this.#streams.size === 0) this.close()
  }

  unblock(stream: SpdyStream): void {
    if (this.#blocked.delete(stream) && this.#blocked.size === 0 && !this.#closed) this.#transport.resume()
  }

  #send(frame: SpdyFrame): void {
    if (!this.#closed && this.#transport.writable) this.#transport.write(encodeFrame(frame))
  }

  #onBytes(chunk: Buffer): void {
    if (this.#closed) return
    try {
      this.#queue.push(...this.#parser.push(chunk))
    } catch (e) {
      return this.#fail(e)
    }
    this.#pump()
  }

  /** Handles queued frames in order; only header blocks make it wait. */
  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    void (async () => {
      try {
        for (let f = this.#queue.shift(); f !== undefined && !this.#closed; f = this.#queue.shift()) {
          if (f.kind === 'syn-stream' || f.kind === 'syn-reply' || f.kind === 'headers') {
            // Every header block goes through the inflater, even one we ignore: the zlib context is shared.
            const headers = decodeHeaderBlock(await this.#inflater.inflate(f.headerBlock))
            if (f.kind === 'syn-stream') this.#onSynStream(f.streamId, f.flags, headers)
            else if (f.kind === 'headers' && (f.flags & flagFin) !== 0) this.#streams.get(f.streamId)?.receive(Buffer.alloc(0), true)
            else if (f.kind === 'syn-reply') this.sendReset(f.streamId, rstStatus.protocolError)
          } else this.#onFrame(f)
        }
      } catch (e) {
        this.#fail(e)
      } finally {
        this.#pumping = false
        if (this.#ended) this.#shutdown('the client closed the connection')
      }
    })()
  }

  #onSynStream(id: number, flags: number, headers: SpdyHeaders): void {
    if (id % 2 === 0 || id <= this.#lastStreamId) {
      // Client streams are odd and increasing (section 2.3.2).
      this.sendReset(id, rstStatus.protocolError)
      return
    }
    this.#lastStreamId = id
    if (this.#goingAway) return this.sendReset(id, rstStatus.refusedStream)
    if (this.#streams.size >= (this.#opts.maxStreams ?? defaultMaxStreams)) {
      this.#opts.log?.(`spdy stream ${id} refused: ${this.#streams.size} streams are open`)
      return this.sendReset(id, rstStatus.refusedStream)
    }
    const refusal = this.#opts.validate?.(headers)
    if (refusal !== undefined) {
      this.#opts.log?.(`spdy stream ${id} refused: ${refusal}`)
      return this.sendReset(id, rstStatus.cancel)
    }
    const stream = new SpdyStream(this, id, headers)
    this.#streams.set(id, stream)
    this.#send({ kind: 'syn-reply', streamId: id, flags: 0, headerBlock: this.#compressor.compress(encodeHeaderBlock(noHeaders)) })
    if ((flags & flagFin) !== 0) stream.receive(Buffer.alloc(0), true)
    this.#opts.onStream(stream)
  }

  #onFrame(f: Exclude<SpdyFrame, { kind: 'syn-stream' | 'syn-reply' | 'headers' }>): void {
    switch (f.kind) {
      case 'data': {
        const stream = this.#streams.get(f.streamId)
        if (!stream || stream.isRemoteClosed) return this.sendReset(f.streamId, stream ? rstStatus.streamAlreadyClosed : rstStatus.invalidStream)
        if (!stream.receive(f.data, (f.flags & flagFin) !== 0) && !this.#blocked.has(stream)) {
          this.#blocked.add(stream)
          this.#transport.pause()
        }
        return
      }
      case 'rst-stream':
        this.#streams.get(f.streamId)?.resetByPeer(`stream ${f.streamId} reset by the client (status ${f.status})`)
        return
      case 'ping':
        // Odd ids are the client's pings; even ones would be replies to ours, and we send none.
        if (f.id % 2 === 1) this.#send(f)
        return
      case 'goaway':
        this.#goingAway = true
        if (this.#streams.size === 0) this.close()
        return
      case 'settings':
      case 'window-update':
      case 'unknown-control':
        return
      default:
        return assertNever(f)
    }
  }

  #fail(e: unknown): void {
    this.#opts.log?.(`spdy protocol error: ${e instanceof Error ? e.message : String(e)}`)
    this.#send({ kind: 'goaway', lastGoodStreamId: this.#lastStreamId, status: goawayStatus.protocolError })
    this.#shutdown('protocol error')
  }

  #shutdown(reason: string): void {
    if (this.#closed) return
    this.#closed = true
    this.#queue.length = 0
    for (const s of [...this.#streams.values()]) s.resetByPeer(reason)
    this.#streams.clear()
    this.#blocked.clear()
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const w of waiters) w()
    this.#inflater.close()
    this.#transport.end()
    this.#opts.onClose?.()
  }
}
