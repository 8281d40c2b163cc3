/** Container logs: the bounded ring, partial lines, followers, and reading as the kubelet serves it. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ContainerLog, formatLogEntry, logTimestamp, maxLogLineBytes, maxUnreadFollowBytes, readContainerLog, selectLogEntries, type LogEntry } from '../../../src/kubelet/index.js'

function manualClock(start = Date.UTC(2026, 0, 2, 3, 4, 5, 678)): { now(): number; t: number } {
  return { t: start, now() { return this.t } }
}

async function readAll(s: NodeJS.ReadableStream): Promise<string> {
  let out = ''
  for await (const chunk of s) out += String(chunk)
  return out
}

describe('ContainerLog', () => {
  it('keeps whole lines, holding a partial line until its newline or the end', () => {
    const log = new ContainerLog(manualClock())
    log.write('stdout', 'one\ntw')
    expect(log.entries().map((e) => e.text)).toEqual(['one\n'])
    log.write('stdout', 'o\n')
    log.write('stderr', 'cut')
    log.end()
    expect(log.entries().map((e) => [e.stream, e.text])).toEqual([['stdout', 'one\n'], ['stdout', 'two\n'], ['stderr', 'cut']])
  })

  it('splits a line longer than 16 KiB as CRI runtimes do', () => {
    const log = new ContainerLog(manualClock())
    log.write('stdout', `${'x'.repeat(maxLogLineBytes + 10)}\n`)
    expect(log.entries().map((e) => e.text.length)).toEqual([maxLogLineBytes + 1, 11])
  })

  it('never holds more than its byte and line bounds and always keeps the newest lines (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 16, max: 400 }), fc.integer({ min: 1, max: 30 }), fc.array(fc.string({ maxLength: 40 }), { maxLength: 200 }),
      (maxBytes, maxLines, lines) => {
        const log = new ContainerLog(manualClock(), { maxBytes, maxLines })
        for (const l of lines) log.write('stdout', `${l.replace(/\n/g, '')}\n`)
        const kept = log.entries()
        expect(kept.length).toBeLessThanOrEqual(maxLines)
        expect(kept.reduce((n, e) => n + Buffer.byteLength(e.text), 0)).toBeLessThanOrEqual(maxBytes)
        const all = lines.map((l) => `${l.replace(/\n/g, '')}\n`)
        expect(kept.map((e) => e.text)).toEqual(all.slice(all.length - kept.length))
      },
    ), { seed: 1307, numRuns: 200 })
  })

  it('tells followers of new lines and of the end, and forgets one that leaves', () => {
    const log = new ContainerLog(manualClock())
    const seen: string[] = []
    const leave = log.follow({ entry: (e) => seen.push(e.text), end: () => seen.push('END') })
    const other = log.follow({ entry: () => {}, end: () => {} })
    log.write('stdout', 'a\n')
    other()
    expect(log.followerCount).toBe(1)
    log.end()
    expect(seen).toEqual(['a\n', 'END'])
    expect(log.followerCount).toBe(0)
    leave()
  })
})

describe('reading a container log', () => {
  const entries: LogEntry[] = [1000, 2000, 3000, 4000].map((at, i) => ({ at, stream: 'stdout', text: `line ${i}\n` }))

  it('takes the tail first, then drops lines before since (kubelet order)', () => {
    expect(selectLogEntries(entries, { tailLines: 2 }).map((e) => e.at)).toEqual([3000, 4000])
    expect(selectLogEntries(entries, { tailLines: 0 })).toEqual([])
    expect(selectLogEntries(entries, { sinceMs: 2000 }).map((e) => e.at)).toEqual([2000, 3000, 4000])
    expect(selectLogEntries(entries, { tailLines: 3, sinceMs: 3500 }).map((e) => e.at)).toEqual([4000])
  })

  it('prefixes kubelet timestamps with nine fraction digits', () => {
    expect(logTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05.678000000Z')
    expect(formatLogEntry(entries[0]!, true)).toBe('1970-01-01T00:00:01.000000000Z line 0\n')
  })

  it('cuts the output at limitBytes, also in the middle of a line', async () => {
    const log = new ContainerLog(manualClock())
    log.write('stdout', 'hello\nworld\n')
    expect(await readAll(readContainerLog(log, { follow: false, timestamps: false, limitBytes: 8 }))).toBe('hello\nwo')
  })

  it('follows until the instance ends', async () => {
    const clock = manualClock()
    const log = new ContainerLog(clock)
    log.write('stdout', 'before\n')
    const reading = readAll(readContainerLog(log, { follow: true, timestamps: false }))
    log.write('stdout', 'after\n')
    log.end()
    expect(await reading).toBe('before\nafter\n')
  })

  it('stops following when limitBytes is spent, and when the reader is destroyed', async () => {
    const log = new ContainerLog(manualClock())
    const limited = readContainerLog(log, { follow: true, timestamps: false, limitBytes: 3 })
    const reading = readAll(limited)
    log.write('stdout', 'abcdef\n')
    expect(await reading).toBe('abc')
    expect(log.followerCount).toBe(0)
    const r = readContainerLog(log, { follow: true, timestamps: false })
    expect(log.followerCount).toBe(1)
    r.destroy()
    await new Promise((resolve) => setImmediate(resolve))
    expect(log.followerCount).toBe(0)
  })

  it('a read is the kept lines, tail then since, timestamped, cut at limitBytes (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.string({ maxLength: 20 }), fc.integer({ min: 0, max: 3000 })), { maxLength: 30 }),
      fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }), fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
      fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }), fc.boolean(),
      async (writes, tailLines, sinceOffset, limitBytes, timestamps) => {
        const clock = manualClock(1_000_000)
        const log = new ContainerLog(clock)
        const expected: { at: number; text: string }[] = []
        for (const [text, step] of writes) {
          clock.t += step
          const line = `${text.replace(/\n/g, ' ')}\n`
          log.write('stdout', line)
          expected.push({ at: clock.t, text: line })
        }
        const sinceMs = sinceOffset === undefined ? undefined : 1_000_000 + sinceOffset
        const tail = tailLines === undefined ? expected : expected.slice(Math.max(0, expected.length - tailLines), tailLines === 0 ? 0 : undefined)
        const shown = tail.filter((e) => sinceMs === undefined || e.at >= sinceMs).map((e) => (timestamps ? `${new Date(e.at).toISOString().slice(0, 23)}000000Z ${e.text}` : e.text)).join('')
        const want = limitBytes === undefined ? shown : Buffer.from(shown).subarray(0, limitBytes).toString()
        const got = await readAll(readContainerLog(log, { follow: false, timestamps, ...(tailLines === undefined ? {} : { tailLines }), ...(sinceMs === undefined ? {} : { sinceMs }), ...(limitBytes === undefined ? {} : { limitBytes }) }))
        expect(Buffer.from(got)).toEqual(Buffer.from(want))
      },
    ), { seed: 77, numRuns: 150 })
  })

  it('drops a follower that does not read instead of buffering without end', async () => {
    const log = new ContainerLog(manualClock(), { maxBytes: 1 << 30, maxLines: 1 << 30 })
    const r = readContainerLog(log, { follow: true, timestamps: false })
    const failed = new Promise<Error>((resolve) => r.once('error', resolve))
    const line = `${'x'.repeat(1023)}\n`
    for (let i = 0; i * 1024 <= maxUnreadFollowBytes; i++) log.write('stdout', line)
    expect((await failed).message).toMatch(/fell more than \d+ bytes behind/)
    expect(log.followerCount).toBe(0)
  })
})
