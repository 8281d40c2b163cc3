/**
 * SPDY/3.1 framing: every frame type encodes to the bytes the spec lays out and decodes back;
 * the parser gives the same frames however the byte stream is cut (fast-check); header blocks
 * round-trip through real zlib with the SPDY/3 dictionary in both directions.
 */
import { constants, createDeflate, createInflate, deflateSync, type Deflate, type Inflate } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeHeaderBlock, encodeFrame, encodeHeaderBlock, HeaderBlockInflater, spdy3Dictionary, SpdyFrameParser, SpdyProtocolError,
  StoredHeaderCompressor, type SpdyFrame,
} from '../../../src/apiserver/spdy/index.js'

const hex = (b: Buffer): string => b.toString('hex').replace(/(..)/g, '$1 ').trim()

describe('SPDY/3 frames', () => {
  it.each<[string, SpdyFrame, string]>([
    ['PING', { kind: 'ping', id: 1 }, '80 03 00 06 00 00 00 04 00 00 00 01'],
    ['RST_STREAM CANCEL', { kind: 'rst-stream', streamId: 3, status: 5 }, '80 03 00 03 00 00 00 08 00 00 00 03 00 00 00 05'],
    ['GOAWAY', { kind: 'goaway', lastGoodStreamId: 7, status: 1 }, '80 03 00 07 00 00 00 08 00 00 00 07 00 00 00 01'],
    ['WINDOW_UPDATE', { kind: 'window-update', streamId: 0, delta: 65536 }, '80 03 00 09 00 00 00 08 00 00 00 00 00 01 00 00'],
    ['DATA with FIN', { kind: 'data', streamId: 5, flags: 1, data: Buffer.from('hi') }, '00 00 00 05 01 00 00 02 68 69'],
    ['SYN_REPLY', { kind: 'syn-reply', streamId: 1, flags: 0, headerBlock: Buffer.from([0xaa]) }, '80 03 00 02 00 00 00 05 00 00 00 01 aa'],
    ['SYN_STREAM', { kind: 'syn-stream', streamId: 1, associatedStreamId: 0, priority: 0, slot: 0, flags: 0, headerBlock: Buffer.from([0xbb]) },
      '80 03 00 01 00 00 00 0b 00 00 00 01 00 00 00 00 00 00 bb'],
    ['SETTINGS', { kind: 'settings', flags: 0, entries: [{ flags: 0, id: 7, value: 65536 }] }, '80 03 00 04 00 00 00 0c 00 00 00 01 00 00 00 07 00 01 00 00'],
  ])('%s encodes as the spec lays it out and decodes back', (_name, frame, bytes) => {
    const wire = encodeFrame(frame)
    expect(hex(wire)).toBe(bytes)
    expect(new SpdyFrameParser().push(wire)).toEqual([frame])
  })

  it('a frame split across chunks waits for its last byte; several frames in one chunk all come out', () => {
    const a = encodeFrame({ kind: 'data', streamId: 1, flags: 0, data: Buffer.from('hello') })
    const b = encodeFrame({ kind: 'ping', id: 9 })
    const p = new SpdyFrameParser()
    expect(p.push(a.subarray(0, 3))).toEqual([])
    expect(p.push(a.subarray(3, 9))).toEqual([])
    expect(p.pending).toBe(9)
    const out = p.push(Buffer.concat([a.subarray(9), b, b]))
    expect(out.map((f) => f.kind)).toEqual(['data', 'ping', 'ping'])
    expect(out[0]).toMatchObject({ streamId: 1, data: Buffer.from('hello') })
    expect(p.pending).toBe(0)
  })

  it('refuses another SPDY version and truncated control frames; ignores unknown control types', () => {
    const v2 = encodeFrame({ kind: 'ping', id: 1 })
    v2.writeUInt16BE(0x8002, 0)
    expect(() => new SpdyFrameParser().push(v2)).toThrow(SpdyProtocolError)
    expect(() => new SpdyFrameParser().push(Buffer.from('8003000300000004000000 01'.replace(/ /g, ''), 'hex'))).toThrow(/RST_STREAM frame of 4 bytes/)
    const unknown = Buffer.from('80030063000000020102', 'hex')
    expect(new SpdyFrameParser().push(unknown)).toEqual([{ kind: 'unknown-control', type: 0x63, flags: 0, payload: Buffer.from([1, 2]) }])
  })

  const streamId = fc.integer({ min: 1, max: 0x7fffffff })
  const u32 = fc.integer({ min: 0, max: 0xffffffff })
  const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))
  const frameArb: fc.Arbitrary<SpdyFrame> = fc.oneof(
    fc.record({ kind: fc.constant('data' as const), streamId, flags: fc.integer({ min: 0, max: 255 }), data: bytes }),
    fc.record({ kind: fc.constant('syn-stream' as const), streamId, associatedStreamId: fc.integer({ min: 0, max: 0x7fffffff }), priority: fc.integer({ min: 0, max: 7 }), slot: fc.integer({ min: 0, max: 255 }), flags: fc.integer({ min: 0, max: 3 }), headerBlock: bytes }),
    fc.record({ kind: fc.constant('syn-reply' as const), streamId, flags: fc.integer({ min: 0, max: 1 }), headerBlock: bytes }),
    fc.record({ kind: fc.constant('headers' as const), streamId, flags: fc.integer({ min: 0, max: 1 }), headerBlock: bytes }),
    fc.record({ kind: fc.constant('rst-stream' as const), streamId, status: u32 }),
    fc.record({ kind: fc.constant('ping' as const), id: u32 }),
    fc.record({ kind: fc.constant('goaway' as const), lastGoodStreamId: fc.integer({ min: 0, max: 0x7fffffff }), status: u32 }),
    fc.record({ kind: fc.constant('window-update' as const), streamId: fc.integer({ min: 0, max: 0x7fffffff }), delta: fc.integer({ min: 1, max: 0x7fffffff }) }),
    fc.record({ kind: fc.constant('settings' as const), flags: fc.integer({ min: 0, max: 1 }), entries: fc.array(fc.record({ flags: fc.integer({ min: 0, max: 255 }), id: fc.integer({ min: 0, max: 0xffffff }), value: u32 }), { maxLength: 4 }) }),
  )

  it('property: the parser returns the encoded frames, in order, whatever the chunking', () => {
    fc.assert(fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 4000 }), { maxLength: 20 }), (frames, cuts) => {
      const wire = Buffer.concat(frames.map(encodeFrame))
      const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b)
      const p = new SpdyFrameParser()
      const out: SpdyFrame[] = []
      let from = 0
      for (const at of [...points, wire.length]) {
        out.push(...p.push(wire.subarray(from, at)))
        from = at
      }
      expect(out).toEqual(frames)
      expect(p.pending).toBe(0)
    }))
  })
})

describe('SPDY/3 header blocks', () => {
  it('name/value pairs round-trip; several values travel NUL-joined; names go lowercase', () => {
    const block = encodeHeaderBlock(new Map([['StreamType', ['error']], ['port', ['8080']], ['x-multi', ['a', 'b']]]))
    expect(block.subarray(0, 4).readUInt32BE(0)).toBe(3)
    expect(decodeHeaderBlock(block)).toEqual(new Map([['streamtype', ['error']], ['port', ['8080']], ['x-multi', ['a', 'b']]]))
    expect(decodeHeaderBlock(encodeHeaderBlock(new Map()))).toEqual(new Map())
  })

  it('refuses a block cut short or with bytes left over', () => {
    const block = encodeHeaderBlock(new Map([['port', ['80']]]))
    expect(() => decodeHeaderBlock(block.subarray(0, block.length - 1))).toThrow(SpdyProtocolError)
    expect(() => decodeHeaderBlock(Buffer.concat([block, Buffer.from([0])]))).toThrow(/1 bytes after/)
  })

  it('the dictionary is the SPDY/3 one: 1423 bytes, zlib dictionary id e3c6a7c2', () => {
    expect(spdy3Dictionary.length).toBe(1423)
    // zlib writes the dictionary's Adler-32 into the stream header (RFC 1950 DICTID).
    expect(deflateSync(Buffer.from('x'), { dictionary: spdy3Dictionary }).subarray(2, 6).toString('hex')).toBe('e3c6a7c2')
  })

  /** Writes one block and collects what a real zlib stream emits for it after a sync flush. */
  function through(z: Deflate | Inflate, input: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      const onData = (c: Buffer): void => { chunks.push(c) }
      z.on('data', onData)
      z.once('error', reject)
      z.write(input)
      z.flush(constants.Z_SYNC_FLUSH, () => {
        z.off('data', onData)
        resolve(Buffer.concat(chunks))
      })
    })
  }

  const blocks = [
    new Map([['streamtype', ['error']], ['port', ['8080']], ['requestid', ['0']]]),
    new Map([['streamtype', ['data']], ['port', ['8080']], ['requestid', ['0']]]),
    new Map([['streamtype', ['error']], ['port', ['8080']], ['requestid', ['1']]]),
    new Map([['x-big', ['v'.repeat(70_000)]]]),
  ]

  it('outbound: stored blocks, each ending in 00 00 00 ff ff, inflate with real zlib and the dictionary, block by block', async () => {
    const compressor = new StoredHeaderCompressor()
    const inflate = createInflate({ dictionary: spdy3Dictionary })
    for (const [i, headers] of blocks.entries()) {
      const wire = compressor.compress(encodeHeaderBlock(headers))
      if (i === 0) expect(hex(wire.subarray(0, 2))).toBe('78 01')
      expect(hex(wire.subarray(-5))).toBe('00 00 00 ff ff')
      // Each frame's bytes inflate to exactly its block.
      expect(decodeHeaderBlock(await through(inflate, wire))).toEqual(headers)
    }
    inflate.close()
  })

  it('inbound: blocks from a real zlib deflate with the dictionary, sync-flushed per frame as Go does, decode in order through one context', async () => {
    const deflate = createDeflate({ dictionary: spdy3Dictionary, level: 9 })
    const inflater = new HeaderBlockInflater()
    const wires: Buffer[] = []
    for (const headers of blocks) wires.push(await through(deflate, encodeHeaderBlock(headers)))
    // Later blocks refer back to earlier ones: the context must persist.
    expect(wires[2]!.length).toBeLessThan(wires[0]!.length)
    for (const [i, wire] of wires.entries()) expect(decodeHeaderBlock(await inflater.inflate(wire))).toEqual(blocks[i])
    deflate.close()
    inflater.close()
  })

  it('inbound: a block that inflates past 1 MiB rejects with a protocol error, and so does every later one', async () => {
    const deflate = createDeflate({ dictionary: spdy3Dictionary, level: 9 })
    const inflater = new HeaderBlockInflater()
    const ok = await through(deflate, encodeHeaderBlock(new Map([['x-big', ['v'.repeat(1000 * 1024)]]])))
    expect(decodeHeaderBlock(await inflater.inflate(ok)).get('x-big')?.[0]?.length).toBe(1000 * 1024)
    // About 2 KiB on the wire.
    const bomb = await through(deflate, Buffer.alloc(2 << 20))
    expect(bomb.length).toBeLessThan(4096)
    await expect(inflater.inflate(bomb)).rejects.toThrow(SpdyProtocolError)
    await expect(inflater.inflate(ok)).rejects.toThrow(SpdyProtocolError)
    deflate.close()
    inflater.close()
  })

  it('inbound: a corrupt block rejects, and so does every later one', async () => {
    const inflater = new HeaderBlockInflater()
    await expect(inflater.inflate(Buffer.from('78bbffffffff', 'hex'))).rejects.toThrow()
    await expect(inflater.inflate(Buffer.from('00', 'hex'))).rejects.toThrow()
    inflater.close()
  })
})
