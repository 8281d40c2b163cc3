/**
 * Reads a store file line by line from a file handle, with each line's byte offset and number,
 * so no file ever has to fit in one string (V8 caps strings near 512 MiB). A line longer than
 * `maxLineBytes` is reported by length only, never buffered.
 */
import { constants } from 'node:buffer'
import type { FileHandle } from 'node:fs/promises'

export interface FileLine {
  /** The line without its newline; undefined when it is longer than maxLineBytes. */
  readonly bytes: Buffer | undefined
  readonly length: number
  /** Byte offset of the line's first byte. */
  readonly offset: number
  /** 1-based. */
  readonly line: number
  /** False for a last line with no newline after it (a write cut short). */
  readonly terminated: boolean
}

export interface LineReaderOptions {
  readonly maxLineBytes?: number
  readonly chunkBytes?: number
}

/**
 * Default line cap: V8's longest string (about 512 MiB), so decoding a line can never throw
 * "Invalid string length"; older kpe wrote whole snapshots as one line up to that size.
 */
export const defaultMaxLineBytes = constants.MAX_STRING_LENGTH

export async function* readFileLines(fh: FileHandle, opts: LineReaderOptions = {}): AsyncGenerator<FileLine> {
  const chunkBytes = opts.chunkBytes ?? 1024 * 1024
  const splitter = new LineSplitter(opts.maxLineBytes ?? defaultMaxLineBytes)
  for await (const chunk of readChunks(fh, chunkBytes)) yield* splitter.push(chunk)
  const last = splitter.end()
  if (last) yield last
}

async function* readChunks(fh: FileHandle, chunkBytes: number): AsyncGenerator<Buffer> {
  for (let position = 0; ;) {
    const buf = Buffer.allocUnsafe(chunkBytes)
    const { bytesRead } = await fh.read(buf, 0, chunkBytes, position)
    if (bytesRead === 0) return
    position += bytesRead
    yield buf.subarray(0, bytesRead)
  }
}

/** The splitting state machine: feed chunks in file order, get complete lines back. */
export class LineSplitter {
  readonly #maxLineBytes: number
  #parts: Buffer[] = []
  #length = 0
  #offset = 0
  #line = 1

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes
  }

  push(chunk: Buffer): FileLine[] {
    const out: FileLine[] = []
    let start = 0
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      this.#add(chunk.subarray(start, nl))
      out.push(this.#take(true))
      start = nl + 1
    }
    if (start < chunk.length) this.#add(chunk.subarray(start))
    return out
  }

  /** The unterminated last line, if the input did not end with a newline. */
  end(): FileLine | undefined {
    return this.#length > 0 ? this.#take(false) : undefined
  }

  #add(part: Buffer): void {
    this.#length += part.length
    if (this.#length <= this.#maxLineBytes) this.#parts.push(part)
    else this.#parts = []
  }

  #take(terminated: boolean): FileLine {
    const parts = this.#parts
    const length = this.#length
    const bytes = length > this.#maxLineBytes ? undefined : parts.length === 1 ? parts[0] : Buffer.concat(parts, length)
    const out: FileLine = { bytes, length, offset: this.#offset, line: this.#line, terminated }
    this.#offset += length + (terminated ? 1 : 0)
    this.#line++
    this.#parts = []
    this.#length = 0
    return out
  }
}

/** Every line of an in-memory buffer (small inputs and tests). */
export function splitBuffer(buf: Buffer, maxLineBytes = defaultMaxLineBytes): FileLine[] {
  const splitter = new LineSplitter(maxLineBytes)
  const lines = splitter.push(buf)
  const last = splitter.end()
  return last ? [...lines, last] : lines
}
