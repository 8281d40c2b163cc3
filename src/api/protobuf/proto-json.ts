/**
 * Converts between an object's JSON form and the plain form protobufjs encodes, walking the API
 * descriptor: the messages whose JSON is a scalar (IntOrString, Quantity, Time, MicroTime,
 * Duration, RawExtension, FieldsV1, string lists), inline embedded structs and renamed fields.
 * Pure; bytes travel as base64 strings on both sides.
 */
import { protoFieldsOf, type SchemaField } from '../schema/api-schema.js'
import { ProtobufConversionError } from './conversion-error.js'
import { formatGoDuration, parseGoDuration } from './go-duration.js'

type Plain = Record<string, unknown>

const meta = 'k8s.io.apimachinery.pkg.apis.meta.v1'
const intOrString = 'k8s.io.apimachinery.pkg.util.intstr.IntOrString'
const quantity = 'k8s.io.apimachinery.pkg.api.resource.Quantity'
const rawExtension = 'k8s.io.apimachinery.pkg.runtime.RawExtension'
const stringLists = new Set([`${meta}.Verbs`, 'k8s.io.api.authentication.v1.ExtraValue', 'k8s.io.api.authorization.v1.ExtraValue'])

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/

/** seconds and nanos of an RFC 3339 time, as metav1.Time's protobuf form holds them. */
function parseTime(s: string, field: string): { seconds: number; nanos: number } {
  const m = rfc3339.exec(s)
  if (!m) throw new ProtobufConversionError(field, `parsing time ${JSON.stringify(s)} as RFC 3339`)
  const [, y, mo, d, h, mi, se, frac, sign, oh, om] = m
  const offset = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60)
  const seconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se)) / 1000 - offset
  return { seconds, nanos: frac === undefined ? 0 : Number(frac.padEnd(9, '0')) }
}

/** Years 0000-9999, the range RFC 3339 (and Go's MarshalJSON) can write. */
const maxTimeSeconds = 253_402_300_799
const minTimeSeconds = -62_167_219_200

/** Go's RFC 3339 in UTC: whole seconds for Time, microseconds for MicroTime. */
function formatTime(seconds: number, nanos: number, micro: boolean, field: string): string {
  if (!(seconds >= minTimeSeconds && seconds <= maxTimeSeconds)) throw new ProtobufConversionError(field, `time ${seconds}s since the epoch is outside years 0000-9999`)
  const base = new Date(seconds * 1000).toISOString().slice(0, 19)
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`
}

// ---- JSON -> protobuf plain form ----

function specialToProto(type: string, v: unknown, field: string): Plain | undefined {
  switch (type) {
    case intOrString: return typeof v === 'string' ? { type: 1, strVal: v } : { type: 0, intVal: v }
    case quantity: return { string: String(v) }
    case `${meta}.Time`: case `${meta}.MicroTime`: return parseTime(String(v), field)
    case `${meta}.Duration`: return { duration: parseGoDuration(String(v), field) }
    case rawExtension: return { raw: Buffer.from(JSON.stringify(v)) }
    case `${meta}.FieldsV1`: return { Raw: Buffer.from(JSON.stringify(v)) }
    default: return stringLists.has(type) ? { items: v } : undefined
  }
}

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v)

/** JSON types each scalar accepts; protobufjs would coerce anything else ("x" to 0) silently. */
const scalarJsonTypes: Readonly<Record<string, (v: unknown) => boolean>> = {
  string: (v) => typeof v === 'string',
  bytes: (v) => typeof v === 'string',
  bool: (v) => typeof v === 'boolean',
  double: (v) => typeof v === 'number',
  float: (v) => typeof v === 'number',
  int32: Number.isInteger, int64: Number.isInteger, uint32: Number.isInteger, uint64: Number.isInteger,
  [intOrString]: (v) => typeof v === 'string' || Number.isInteger(v),
  [quantity]: (v) => typeof v === 'string' || typeof v === 'number',
  [`${meta}.Time`]: (v) => typeof v === 'string',
  [`${meta}.MicroTime`]: (v) => typeof v === 'string',
  [`${meta}.Duration`]: (v) => typeof v === 'string',
}

function valueToProto(type: string, v: unknown, field: string): unknown {
  const accepts = scalarJsonTypes[type]
  if (accepts && !accepts(v)) throw new ProtobufConversionError(field, `${JSON.stringify(v)} is not a valid ${type.split('.').at(-1) ?? type}`)
  const special = specialToProto(type, v, field)
  if (special) return special
  if (protoFieldsOf(type)) {
    if (!isPlain(v)) throw new ProtobufConversionError(field, `expected an object for ${type.split('.').at(-1) ?? type}`)
    return jsonToProto(type, v, field)
  }
  return v
}

function fieldToProto(f: SchemaField, v: unknown, field: string): unknown {
  if (f.keyType !== undefined) {
    if (!isPlain(v)) throw new ProtobufConversionError(field, 'expected an object (a map)')
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, valueToProto(f.type, x, `${field}.${k}`)]))
  }
  if (f.repeated) {
    if (!Array.isArray(v)) throw new ProtobufConversionError(field, 'expected a list')
    return v.map((x, i) => valueToProto(f.type, x, `${field}[${i}]`))
  }
  return valueToProto(f.type, v, field)
}

/**
 * The protobufjs plain form of a JSON object of message `name`. The JSON is expected to have
 * passed the structural decode (types checked); keys the message does not have are left out.
 */
export function jsonToProto(name: string, json: Plain, path = ''): Plain {
  const out: Plain = {}
  for (const f of protoFieldsOf(name) ?? []) {
    if (f.inline) {
      const inner = jsonToProto(f.type, json, path)
      if (Object.keys(inner).length > 0) out[f.name] = inner
      continue
    }
    const key = f.jsonName ?? f.name
    const v = Object.hasOwn(json, key) ? json[key] : undefined
    if (v === undefined || v === null) continue
    out[f.name] = fieldToProto(f, v, path === '' ? key : `${path}.${key}`)
  }
  return out
}

// ---- protobuf plain form -> JSON ----

function parseRaw(b64: string, field: string, decodeEmbedded: (raw: Buffer) => unknown): unknown {
  const raw = Buffer.from(b64, 'base64')
  if (raw.length === 0) return undefined
  if (raw.subarray(0, 4).equals(protobufMagic)) return decodeEmbedded(raw)
  try {
    return JSON.parse(raw.toString('utf8')) as unknown
  } catch {
    throw new ProtobufConversionError(field, 'the embedded object is neither JSON nor a Kubernetes protobuf message')
  }
}

/** The 4 bytes every Kubernetes protobuf object starts with: "k8s" and a zero byte. */
export const protobufMagic = Buffer.from([0x6b, 0x38, 0x73, 0x00])

interface FromContext {
  /** Decodes an embedded object (RawExtension holding k8s\x00 + Unknown) to its JSON form. */
  readonly decodeEmbedded: (raw: Buffer) => unknown
}

function specialFromProto(type: string, p: Plain, field: string, ctx: FromContext): { value: unknown } | undefined {
  switch (type) {
    case intOrString: return { value: p['type'] === 1 ? (p['strVal'] ?? '') : (p['intVal'] ?? 0) }
    case quantity: return { value: p['string'] ?? '0' }
    case `${meta}.Time`: case `${meta}.MicroTime`:
      // Go writes the zero time as an empty message; its JSON is null, which means absent.
      if (p['seconds'] === undefined && p['nanos'] === undefined) return { value: undefined }
      return { value: formatTime(Number(p['seconds'] ?? 0), Number(p['nanos'] ?? 0), type.endsWith('MicroTime'), field) }
    case `${meta}.Duration`: return { value: formatGoDuration(Number(p['duration'] ?? 0)) }
    case rawExtension: return { value: p['raw'] === undefined ? undefined : parseRaw(String(p['raw']), field, ctx.decodeEmbedded) }
    case `${meta}.FieldsV1`: return { value: p['Raw'] === undefined ? undefined : parseRaw(String(p['Raw']), field, ctx.decodeEmbedded) }
    default: return stringLists.has(type) ? { value: p['items'] ?? [] } : undefined
  }
}

function valueFromProto(type: string, v: unknown, field: string, ctx: FromContext): unknown {
  if (protoFieldsOf(type)) {
    const special = specialFromProto(type, v as Plain, field, ctx)
    if (special) return special.value
    return protoToJsonInto(type, v as Plain, {}, field, ctx)
  }
  return v
}

/**
 * Go's protobuf encoder writes every non-pointer string field, set or not; its JSON encoder leaves
 * the empty ones out (omitempty), and kube-apiserver reads "" and absent alike. So an empty
 * singular string reads as absent, except where a pointer's "" means something of its own.
 */
const meaningfulEmptyStrings = new Set([
  'k8s.io.api.core.v1.PersistentVolumeClaimSpec.storageClassName',
  // *string: "" is an unnamed Service port; kube-proxy skips a slice port whose name is absent
  'k8s.io.api.discovery.v1.EndpointPort.name',
])

function isUnsetString(message: string, f: SchemaField, v: unknown): boolean {
  return v === '' && f.type === 'string' && !f.repeated && f.keyType === undefined && !meaningfulEmptyStrings.has(`${message}.${f.name}`)
}

/**
 * Numbers and booleans cannot be told apart from a pointer set to zero (replicas: 0) on the wire;
 * only the fields the descriptor marks zeroIsUnset (non-pointer, omitempty) read 0/false as unset.
 */
function isUnsetZero(f: SchemaField, v: unknown): boolean {
  return f.zeroIsUnset === true && (v === 0 || v === false)
}

function protoToJsonInto(name: string, p: Plain, out: Plain, path: string, ctx: FromContext): Plain {
  for (const f of protoFieldsOf(name) ?? []) {
    const v = p[f.name]
    if (v === undefined || v === null || isUnsetString(name, f, v) || isUnsetZero(f, v)) continue
    if (f.inline) {
      protoToJsonInto(f.type, v as Plain, out, path, ctx)
      continue
    }
    const key = f.jsonName ?? f.name
    const field = path === '' ? key : `${path}.${key}`
    let x: unknown
    if (f.keyType !== undefined) {
      x = Object.fromEntries(Object.entries(v as Plain).map(([k, item]) => [k, valueFromProto(f.type, item, `${field}.${k}`, ctx) ?? null]))
    } else if (f.repeated) {
      x = (v as unknown[]).map((item, i) => valueFromProto(f.type, item, `${field}[${i}]`, ctx) ?? null)
    } else x = valueFromProto(f.type, v, field, ctx)
    if (x !== undefined) out[key] = x
  }
  return out
}

/** The JSON form of a protobufjs plain object (toObject with longs as numbers, bytes as base64). */
export function protoToJson(name: string, p: Plain, decodeEmbedded: FromContext['decodeEmbedded']): Plain {
  return protoToJsonInto(name, p, {}, '', { decodeEmbedded })
}
