/**
 * One container instance's log, as the container runtime keeps it: a ring of timestamped lines
 * bounded by bytes and by lines (the oldest go first), that followers can subscribe to until the
 * instance ends. Each restart starts a new ContainerLog, so the previous instance stays readable.
 */

export type LogStream = 'stdout' | 'stderr'

export interface LogEntry {
  /** When the line was written, ms since the epoch. */
  readonly at: number
  readonly stream: LogStream
  /** One line, including its final newline (absent only on a line cut at the end of the instance). */
  readonly text: string
}

export interface ContainerLogLimits {
  /** Bytes of line text kept per container instance. */
  readonly maxBytes: number
  /** Lines kept per container instance. */
  readonly maxLines: number
}

/**
 * 1 MiB and 10,000 lines per instance: far below upstream's 10 MiB containerLogMaxSize file, since
 * every pod of a kpe cluster lives in one process's memory.
 */
export const defaultContainerLogLimits: ContainerLogLimits = { maxBytes: 1 << 20, maxLines: 10_000 }

/** CRI runtimes split longer lines into partial ones (16 KiB); kpe does the same. */
export const maxLogLineBytes = 16 * 1024

export interface LogFollower {
  entry(e: LogEntry): void
  end(): void
}

export class ContainerLog {
  readonly #limits: ContainerLogLimits
  readonly #clock: { now(): number }
  /** Kept lines, oldest first, from index #head on (compacted when half is dead). */
  #entries: LogEntry[] = []
  #head = 0
  #bytes = 0
  #ended = false
  readonly #partial: Record<LogStream, string> = { stdout: '', stderr: '' }
  readonly #followers = new Set<LogFollower>()

  constructor(clock: { now(): number }, limits: ContainerLogLimits = defaultContainerLogLimits) {
    this.#clock = clock
    this.#limits = limits
  }

  get ended(): boolean {
    return this.#ended
  }

  /** The kept lines, oldest first. */
  entries(): readonly LogEntry[] {
    return this.#entries.slice(this.#head)
  }

  /** Appends output; text without a final newline waits for the rest of its line (or the end). */
  write(stream: LogStream, text: string): void {
    if (this.#ended || text === '') return
    const all = this.#partial[stream] + text
    const lines = all.split('\n')
    this.#partial[stream] = lines.pop() ?? ''
    for (const line of lines) this.#push(stream, `${line}\n`)
    while (Buffer.byteLength(this.#partial[stream]) > maxLogLineBytes) {
      const cut = cutAtBytes(this.#partial[stream], maxLogLineBytes)
      this.#push(stream, `${cut}\n`)
      this.#partial[stream] = this.#partial[stream].slice(cut.length)
    }
  }

  /** The instance ended: a cut line is kept as it is, and every follower is told. */
  end(): void {
    if (this.#ended) return
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.#partial[stream] !== '') this.#push(stream, this.#partial[stream])
      this.#partial[stream] = ''
    }
    this.#ended = true
    for (const f of [...this.#followers]) f.end()
    this.#followers.clear()
  }

  /** New lines go to `f` until the instance ends or the returned function is called. */
  follow(f: LogFollower): () => void {
    if (this.#ended) {
      f.end()
      return () => {}
    }
    this.#followers.add(f)
    return () => { this.#followers.delete(f) }
  }

  get followerCount(): number {
    return this.#followers.size
  }

  #push(stream: LogStream, raw: string): void {
    for (const text of splitLongLine(raw)) {
      const e: LogEntry = { at: this.#clock.now(), stream, text }
      this.#entries.push(e)
      this.#bytes += Buffer.byteLength(text)
      this.#evict()
      for (const f of this.#followers) f.entry(e)
    }
  }

  #evict(): void {
    while (this.#entries.length - this.#head > 0 && (this.#bytes > this.#limits.maxBytes || this.#entries.length - this.#head > this.#limits.maxLines)) {
      this.#bytes -= Buffer.byteLength(this.#entries[this.#head]!.text)
      this.#head++
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#head = 0
    }
  }
}

/** The longest prefix of `s` of at most `max` UTF-8 bytes (never splitting a character). */
function cutAtBytes(s: string, max: number): string {
  let bytes = 0
  let i = 0
  for (const ch of s) {
    const n = Buffer.byteLength(ch)
    if (bytes + n > max) break
    bytes += n
    i += ch.length
  }
  return s.slice(0, Math.max(i, 1))
}

function splitLongLine(text: string): string[] {
  if (Buffer.byteLength(text) <= maxLogLineBytes) return [text]
  const out: string[] = []
  let rest = text
  while (Buffer.byteLength(rest) > maxLogLineBytes) {
    const cut = cutAtBytes(rest, maxLogLineBytes)
    out.push(`${cut}\n`)
    rest = rest.slice(cut.length)
  }
  if (rest !== '' && rest !== '\n') out.push(rest)
  return out
}
