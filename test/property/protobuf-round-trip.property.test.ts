/**
 * JSON -> protobuf -> JSON is the identity for every kind kpe serves (schemaKinds(), so kinds
 * added later are covered without touching this file). Objects are generated from the API
 * descriptor's field types in their canonical JSON form: IntOrString as number or string,
 * Quantity and Time as strings, RawExtension/FieldsV1 as free JSON, bytes as base64.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeProtobufObject, encodeProtobufObject, ProtobufConversionError, protoType, schemaKinds } from '../../src/api/index.js'
import { schemaMessage, type SchemaField } from '../../src/api/schema/api-schema.js'
import { decodeStructured } from '../../src/api/schema/structural-decode.js'

type Json = Record<string, unknown>
const meta = 'k8s.io.apimachinery.pkg.apis.meta.v1'

const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '__proto__')
/** Singular strings are never empty: Go's protobuf carries "" for every unset string, so "" reads as absent. */
const text = fc.string({ minLength: 1, maxLength: 8 })
const freeJson = fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as Json)
const timeSeconds = fc.integer({ min: 0, max: 253_402_300_799 })

const scalarArbs: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  string: text,
  bool: fc.boolean(),
  int32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  uint32: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  int64: fc.maxSafeInteger(),
  uint64: fc.maxSafeNat(),
  double: fc.double({ noNaN: true, noDefaultInfinity: true }),
  float: fc.float({ noNaN: true, noDefaultInfinity: true }),
  bytes: fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('base64')),
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.string({ maxLength: 8 })),
  'k8s.io.apimachinery.pkg.api.resource.Quantity': fc.tuple(fc.nat(100_000), fc.constantFrom('', 'm', 'k', 'Mi', 'Gi', 'e3')).map(([n, s]) => `${n}${s}`),
  [`${meta}.Time`]: timeSeconds.map((s) => `${new Date(s * 1000).toISOString().slice(0, 19)}Z`),
  [`${meta}.MicroTime`]: fc.tuple(timeSeconds, fc.nat(999_999)).map(([s, us]) => `${new Date(s * 1000).toISOString().slice(0, 19)}.${String(us).padStart(6, '0')}Z`),
  'k8s.io.apimachinery.pkg.runtime.RawExtension': freeJson,
  [`${meta}.FieldsV1`]: freeJson,
  [`${meta}.Verbs`]: fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  'k8s.io.api.authentication.v1.ExtraValue': fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  'k8s.io.api.authorization.v1.ExtraValue': fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
}

/** A random JSON object of message `name`: up to 4 of its JSON fields, nesting at most `depth` deeper. */
function messageArb(name: string, depth: number): fc.Arbitrary<Json> {
  const fields = [...(schemaMessage(name) ?? new Map<string, SchemaField>())]
  if (depth <= 0 || fields.length === 0) return fc.constant({})
  return fc.shuffledSubarray(fields, { maxLength: Math.min(4, fields.length) }).chain((chosen) =>
    fc.record(Object.fromEntries(chosen.map(([k, f]) => [k, fieldArb(f, depth - 1)]))) as fc.Arbitrary<Json>)
}

function valueArb(type: string, depth: number): fc.Arbitrary<unknown> {
  return scalarArbs[type] ?? messageArb(type, depth)
}

function fieldArb(f: SchemaField, depth: number): fc.Arbitrary<unknown> {
  // Lists and maps may hold empty strings: only a singular "" is indistinguishable from unset.
  const plain = f.type === 'string' && f.keyType === undefined && !f.repeated ? text : f.type === 'string' ? fc.string({ maxLength: 6 }) : valueArb(f.type, depth)
  // A zeroIsUnset field's zero is unset (Go's JSON leaves it out), so its canonical JSON is never 0/false.
  const item = f.zeroIsUnset ? plain.filter((v) => v !== 0 && v !== false) : plain
  // Never empty: protobuf has no empty map or list, as Go's JSON (omitempty) has none either.
  if (f.keyType !== undefined) return fc.dictionary(key, item, { minKeys: 1, maxKeys: 3 })
  if (f.repeated) return fc.array(item, { minLength: 1, maxLength: 3 })
  return item
}

describe('protobuf round trip against the API descriptor', () => {
  it.each(schemaKinds().map((k) => [k.kind, k] as const))('%s: JSON -> protobuf -> JSON is the identity', (_kind, k) => {
    fc.assert(fc.property(messageArb(k.message, 6), (body) => {
      const object = { apiVersion: k.apiVersion, kind: k.kind, ...body }
      // The generated JSON is the canonical JSON form: kpe's own JSON decoder accepts it unchanged.
      const structural = decodeStructured(k.message, object)
      expect(structural.typeErrors).toEqual([])
      expect(structural.value).toEqual(object)
      const encoded = encodeProtobufObject(object)
      expect(encoded?.subarray(0, 4)).toEqual(Buffer.from('k8s\0'))
      expect(decodeProtobufObject(encoded!)).toEqual(object)
    }), { seed: 1206, numRuns: Number(process.env['KPE_FUZZ_RUNS'] ?? 60), interruptAfterTimeLimit: 8_000 })
  })
})

describe('protobuf bodies from anyone', () => {
  it('random bytes behind the k8s magic decode or are refused with ProtobufConversionError, never another error', () => {
    const envelope = (raw: Uint8Array, kind: string) => Buffer.concat([
      Buffer.from('k8s\0'),
      protoType('k8s.io.apimachinery.pkg.runtime.Unknown')!.encode({ typeMeta: { apiVersion: 'v1', kind }, raw }).finish(),
    ])
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from('k8s\0'), b])),
      fc.tuple(fc.uint8Array({ maxLength: 96 }), fc.constantFrom(...schemaKinds().map((k) => k.kind), 'Status', 'Nope')).map(([raw, kind]) => envelope(raw, kind)),
    )
    fc.assert(fc.property(body, (b) => {
      try {
        decodeProtobufObject(b)
      } catch (e) {
        expect(e).toBeInstanceOf(ProtobufConversionError)
      }
    }), { seed: 1206, numRuns: Number(process.env['KPE_FUZZ_RUNS'] ?? 500), interruptAfterTimeLimit: 8_000 })
  })
})

describe('protobuf values with no JSON form', () => {
  it('a Time outside years 0000-9999 is refused naming the field', () => {
    const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, lastTimestamp: '2024-01-01T00:00:00Z' }
    const encoded = encodeProtobufObject(event)!
    // Re-encode with the timestamp's seconds pushed far past year 9999.
    const type = protoType('k8s.io.api.core.v1.Event')!
    const unknownType = protoType('k8s.io.apimachinery.pkg.runtime.Unknown')!
    const unknown = unknownType.decode(encoded.subarray(4)) as unknown as { raw: Uint8Array }
    const message = type.decode(unknown.raw) as unknown as { lastTimestamp: { seconds: number } }
    message.lastTimestamp.seconds = 1e15
    unknown.raw = type.encode(message).finish()
    const tampered = Buffer.concat([Buffer.from('k8s\0'), unknownType.encode(unknown).finish()])
    expect(() => decodeProtobufObject(tampered)).toThrow(new ProtobufConversionError('lastTimestamp', 'time 1000000000000000s since the epoch is outside years 0000-9999'))
  })
})
