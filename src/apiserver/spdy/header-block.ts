/**
 * The SPDY/3 name/value header block before compression (section 2.6.10): a 32-bit pair count,
 * then per pair a 32-bit length and the name, a 32-bit length and the value. Several values of
 * one name are joined by NUL. Names are lowercase on the wire. Pure.
 */
import { SpdyProtocolError } from './frames.js'

/** Header name -> its values, in the order they were given. */
export type SpdyHeaders = ReadonlyMap<string, readonly string[]>

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = []
  const count = Buffer.alloc(4)
  count.writeUInt32BE(headers.size, 0)
  parts.push(count)
  for (const [name, values] of headers) {
    for (const text of [name.toLowerCase(), values.join('\0')]) {
      const bytes = Buffer.from(text, 'utf8')
      const length = Buffer.alloc(4)
      length.writeUInt32BE(bytes.length, 0)
      parts.push(length, bytes)
    }
  }
  return Buffer.concat(parts)
}

export function decodeHeaderBlock(block: Buffer): Map<string, string[]> {
  let at = 0
  const u32 = (what: string): number => {
    if (block.length - at < 4) throw new SpdyProtocolError(`header block ends inside the ${what}`)
    const v = block.readUInt32BE(at)
    at += 4
    return v
  }
  const text = (what: string): string => {
    const n = u32(`${what} length`)
    if (block.length - at < n) throw new SpdyProtocolError(`header block ends inside a ${what} of ${n} bytes`)
    const s = block.toString('utf8', at, at + n)
    at += n
    return s
  }
  const out = new Map<string, string[]>()
  const count = u32('pair count')
  for (let i = 0; i < count; i++) {
    const name = text('name')
    if (name === '') throw new SpdyProtocolError('header block has an empty name')
    const values = text('value').split('\0')
    out.set(name, [...(out.get(name) ?? []), ...values])
  }
  if (at !== block.length) throw new SpdyProtocolError(`header block has ${block.length - at} bytes after its ${count} pairs`)
  return out
}

/** The first value of a header, as Go's http.Header.Get returns it. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers.get(name.toLowerCase())?.[0]
}
