/**
 * Opens the proxy side of a connection to a pod (loopback only, checked before dialling),
 * records the source address the pod should see in the SeenSourceTable, and pipes bytes both
 * ways with backpressure and half-close. Established pipes do not look at the rules again.
 *
 * The copy loop is the dataplane's hot path (docs/performance.md). Sockets to pods read into one
 * reused buffer (net's `onread`) instead of a fresh 64 KiB allocation per read; every chunk is
 * written straight to the other socket, and the reading side stops until that write has left
 * the process, so a reused buffer is never overwritten while the kernel still needs it.
 */
import { connect, type Socket } from 'node:net'
import { InternalError } from '../../errors.js'
import { isLoopback, parseIP } from '../../net/index.js'
import type { LoopbackAddress, SeenSource, SeenSourceTable } from '../../kubelet/index.js'

/**
 * The safety gate every outgoing socket passes: loopback or nothing. Checked afresh on every
 * call, without a cache: parsing an address costs little next to connect().
 */
export function assertLoopbackTarget(address: string): void {
  const ip = parseIP(address)
  if (ip === undefined || !isLoopback(ip)) throw new InternalError(`refusing to dial ${address}: the userspace proxy only connects to loopback addresses`)
}

/**
 * Receives a chunk read from a socket. The chunk may live in a reused buffer: it is valid only
 * during the call unless the sink returns false, which stops reading (and keeps the buffer
 * untouched) until the owner calls `socket.resume()`.
 */
export type ChunkSink = (chunk: Buffer) => boolean

/** Read buffer of a pod socket: 64 KiB, the size libuv asks for on every read anyway. */
const readBufferBytes = 64 * 1024

/**
 * Read buffers of closed pod sockets, for the next connections: a fresh 64 KiB buffer per
 * connection would be garbage after a short request and keep the collector busy.
 */
const spareBuffers: Buffer[] = []
const maxSpareBuffers = 64

/** The `onread` reader of each socket opened by connectToPod; its sink is set by whoever consumes it. */
class ReusedBufferReader {
  readonly buffer = spareBuffers.pop() ?? Buffer.allocUnsafeSlow(readBufferBytes)
  sink: ChunkSink | undefined
  /** Bytes that arrived before a sink was set (only when the owner resumed without one). */
  early: Buffer[] = []
  /** The last chunk is still referenced by a write in progress (the sink returned false). */
  #retained = false

  readonly onread = {
    buffer: this.buffer,
    callback: (n: number): boolean => {
      const chunk = this.buffer.subarray(0, n)
      if (!this.sink) {
        this.early.push(Buffer.from(chunk))
        return true
      }
      this.#retained = !this.sink(chunk)
      return !this.#retained
    },
  }

  /** The socket closed: nothing reads into the buffer any more; recycle it unless a write still holds it. */
  release(): void {
    if (!this.#retained && spareBuffers.length < maxSpareBuffers) spareBuffers.push(this.buffer)
  }
}

const readers = new WeakMap<Socket, ReusedBufferReader>()

/**
 * Routes a socket's incoming bytes to sink. Sockets from connectToPod deliver views of their
 * reused buffer; any other socket delivers its own chunks through 'data'. Reading starts now.
 */
export function readInto(s: Socket, sink: ChunkSink): void {
  const reader = readers.get(s)
  if (reader) {
    reader.sink = sink
    const early = reader.early
    reader.early = []
    let more = true
    for (const chunk of early) more = sink(chunk) && more
    if (!more) return
  } else {
    s.on('data', (chunk: Buffer) => {
      if (!sink(chunk)) s.pause()
    })
  }
  s.resume()
}

export interface ConnectOptions {
  /**
   * 'reused-buffer': the socket reads into one recycled buffer, delivered only through readInto
   * or pipeBoth (the entry points' copy loops); 'stream' (default): a plain socket for any consumer.
   */
  readonly read?: 'stream' | 'reused-buffer'
}

export function connectToPod(local: LoopbackAddress, seen: SeenSource, table: SeenSourceTable, timeoutMs: number, opts: ConnectOptions = {}): Promise<Socket> {
  assertLoopbackTarget(local.address)
  return new Promise((resolve, reject) => {
    const reader = opts.read === 'reused-buffer' ? new ReusedBufferReader() : undefined
    const s = connect({ host: local.address, port: local.port, allowHalfOpen: true, noDelay: true, ...(reader ? { onread: reader.onread } : {}) })
    if (reader) {
      readers.set(s, reader)
      s.once('close', () => reader.release())
      // Not reading until a consumer calls readInto: nothing may land in the buffer unseen.
      s.pause()
    }
    const timer = setTimeout(() => {
      s.destroy()
      reject(new Error(`connect to ${local.address}:${local.port} timed out`))
    }, timeoutMs)
    s.once('connect', () => {
      clearTimeout(timer)
      const la = s.localAddress ?? ''
      const lp = s.localPort ?? 0
      table.record(la, lp, seen)
      s.once('close', () => table.forget(la, lp))
      resolve(s)
    })
    s.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })
}

/**
 * One direction of a pipe: every chunk is written at once; if the write could not complete
 * inside the call (the peer's socket buffer is full), reading stops until it has.
 */
function forward(from: Socket, to: Socket, activity: Activity): void {
  let waiting = false
  const flushed = (): void => {
    if (waiting && to.writableLength === 0) {
      waiting = false
      from.resume()
    }
  }
  readInto(from, (chunk) => {
    activity.seen = true
    if (!activity.isProven) activity.prove()
    if (to.destroyed || to.writableEnded) return true
    to.write(chunk, flushed)
    if (to.writableLength === 0) return true
    waiting = true
    return false
  })
  // A clean end travels on as a FIN after the pending writes (both sockets allow half-open).
  from.once('end', () => {
    if (!to.destroyed) to.end()
  })
}

interface Activity {
  /** A byte moved since the last idle check. */
  seen: boolean
  /** A byte has ever moved. */
  isProven: boolean
  prove(): void
}

export interface PipeOptions {
  /**
   * Close the pair when no byte has moved either way within this: a client that connects and
   * never speaks, to a server that waits for it. Default: only the idle timeout applies.
   */
  readonly firstByteTimeoutMs?: number
  /** Called once, at the first byte either way. */
  readonly onFirstByte?: () => void
}

/**
 * a <-> b with backpressure and half-close; an error, a close without a clean end, the idle
 * timeout or (with opts.firstByteTimeoutMs) a pair over which nothing has moved yet tears both
 * down. Idle means no bytes either way for idleTimeoutMs to 1.5 × idleTimeoutMs: one timer per
 * pipe checks an activity flag, instead of re-arming a timer on every read and write.
 */
export function pipeBoth(a: Socket, b: Socket, idleTimeoutMs: number, opts: PipeOptions = {}): void {
  const firstByte = opts.firstByteTimeoutMs === undefined ? undefined : setTimeout(() => teardown(), opts.firstByteTimeoutMs)
  firstByte?.unref()
  const activity: Activity = {
    seen: true,
    isProven: false,
    prove() {
      this.isProven = true
      clearTimeout(firstByte)
      opts.onFirstByte?.()
    },
  }
  let idleChecks = 0
  const teardown = (): void => {
    clearInterval(idle)
    clearTimeout(firstByte)
    a.destroy()
    b.destroy()
  }
  const idle = setInterval(() => {
    if (activity.seen) {
      activity.seen = false
      idleChecks = 0
    } else if (++idleChecks >= 2) teardown()
  }, Math.max(1, idleTimeoutMs / 2))
  idle.unref()
  a.on('error', teardown)
  b.on('error', teardown)
  // A side that closed without ending (reset, error) takes the other with it; a clean end was
  // already forwarded and the other side finishes on its own.
  let open = 2
  const closed = (): void => {
    if (--open > 0) return
    clearInterval(idle)
    clearTimeout(firstByte)
  }
  a.once('close', () => {
    if (!b.writableEnded) b.destroy()
    closed()
  })
  b.once('close', () => {
    if (!a.writableEnded) a.destroy()
    closed()
  })
  forward(a, b, activity)
  forward(b, a, activity)
}

/** What REJECT looks like to a TCP client whose connection was already accepted: a reset. */
export function resetConnection(s: Socket): void {
  if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy()
  else s.destroy()
}

/** DROP: never answer; let the client time out, bounded by holdMs. */
export function holdConnection(s: Socket, holdMs: number): void {
  s.pause()
  s.on('error', () => {})
  const timer = setTimeout(() => s.destroy(), holdMs)
  s.once('close', () => clearTimeout(timer))
}
