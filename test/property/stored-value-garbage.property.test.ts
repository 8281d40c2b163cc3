/**
 * Values under /registry that kpe did not write: random bytes, and random bytes behind the
 * protobuf envelope's "k8s\0" magic, or a truncated real envelope. decodeStoredValue must return an
 * object with metadata or throw an Error (which EtcdStore reports and skips), quickly, never
 * anything else. Seeded and bounded.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { protobufMagic } from '../../src/api/index.js'
import { decodeStoredValue, encodeStoredValue } from '../../src/store/etcd/value-codec.js'

const seed = 17_2

const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', uid: 'u-1', labels: { app: 'web' } }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80, protocol: 'TCP', name: 'http' }], selector: { app: 'web' } } }

function decodesOrThrowsError(bytes: Uint8Array): void {
  const t0 = Date.now()
  try {
    const o = decodeStoredValue(bytes, 7)
    expect(typeof o).toBe('object')
    expect(o.metadata.resourceVersion).toBe('7')
  } catch (e) {
    expect(e).toBeInstanceOf(Error)
  }
  expect(Date.now() - t0).toBeLessThan(1_000)
}

describe('decodeStoredValue on values kpe did not write', () => {
  it('random bytes, with and without the protobuf magic', () => {
    fc.assert(fc.property(fc.boolean(), fc.uint8Array({ maxLength: 512 }), (magic, tail) => {
      decodesOrThrowsError(magic ? Buffer.concat([protobufMagic, tail]) : tail)
    }), { seed, numRuns: 3000 })
  })

  it('a real envelope truncated or with bytes flipped', () => {
    const real = encodeStoredValue(service as never)
    expect(real.encoding).toBe('protobuf')
    fc.assert(fc.property(fc.nat({ max: real.bytes.length }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (cut, flips) => {
      const b = Buffer.from(real.bytes.subarray(0, cut))
      for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v
      decodesOrThrowsError(b)
    }), { seed, numRuns: 3000 })
  })
})
