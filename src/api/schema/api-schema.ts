/**
 * The Kubernetes API descriptor (api-schema.json, generated from upstream's .proto files by
 * scripts/gen-api-schema.mjs): messages and their fields by name, plus the Go type names
 * kube-apiserver's JSON decoder prints in its errors.
 */
import descriptor from './api-schema.json' with { type: 'json' }

export interface SchemaField {
  readonly name: string
  readonly number: number
  /** A proto scalar ("string", "int32", "bytes", …) or a message's full name. */
  readonly type: string
  readonly repeated?: boolean
  /** Set for map fields (always "string" in the Kubernetes API). */
  readonly keyType?: string
  /** An embedded struct: its fields sit in the parent's JSON object (Probe's httpGet, Volume's configMap). */
  readonly inline?: boolean
  /** The JSON name, where it is not the proto name. */
  readonly jsonName?: string
  /** A non-pointer number or bool with omitempty: a zero read from protobuf means unset. */
  readonly zeroIsUnset?: boolean
}

/** A message's fields by JSON name, inline structs' fields included. */
export type SchemaMessage = ReadonlyMap<string, SchemaField>

const protoFields = descriptor.messages as Record<string, SchemaField[]>
const messages = new Map<string, SchemaMessage>()

function jsonFields(name: string): SchemaMessage | undefined {
  const cached = messages.get(name)
  if (cached) return cached
  const fields = protoFields[name]
  if (!fields) return undefined
  const out = new Map<string, SchemaField>()
  for (const f of fields) {
    if (f.inline) for (const [k, inner] of jsonFields(f.type) ?? []) out.set(k, inner)
    else out.set(f.jsonName ?? f.name, f)
  }
  messages.set(name, out)
  return out
}

export function schemaMessage(fullName: string): SchemaMessage | undefined {
  return jsonFields(fullName)
}

/** A message's fields as the .proto declares them (inline structs not flattened), in field-number order. */
export function protoFieldsOf(fullName: string): readonly SchemaField[] | undefined {
  return protoFields[fullName]
}

/** Every message's full name. */
export function schemaMessageNames(): readonly string[] {
  return Object.keys(protoFields)
}

const goScalars: Readonly<Record<string, string>> = {
  string: 'string', bool: 'bool', int32: 'int32', int64: 'int64', uint32: 'uint32', uint64: 'uint64',
  double: 'float64', float: 'float32', bytes: '[]uint8',
}

/** "v1.ServiceSpec", "intstr.IntOrString", "int32": the Go spelling of a field's element type. */
export function goTypeName(type: string): string {
  // Asked for every message-typed value a write decodes: cached, not split each time.
  let name = goScalars[type] ?? goTypeNames.get(type)
  if (name === undefined) {
    const parts = type.split('.')
    goTypeNames.set(type, (name = `${parts.at(-2) ?? ''}.${parts.at(-1) ?? type}`))
  }
  return name
}

const goTypeNames = new Map<string, string>()

/** The Go spelling of the field's whole type: "[]string", "map[string]string", "v1.PodSpec". */
export function goFieldTypeName(f: SchemaField): string {
  const elem = goTypeName(f.type)
  if (f.keyType) return `map[${f.keyType}]${elem}`
  return f.repeated ? `[]${elem}` : elem
}

const structNames = new Map<string, string>()

/** "ServiceSpec" from "k8s.io.api.core.v1.ServiceSpec": the struct name in Go's decode errors. */
export function goStructName(fullName: string): string {
  // Asked for every field of every decoded object: cached, not split each time.
  let name = structNames.get(fullName)
  if (name === undefined) structNames.set(fullName, (name = fullName.split('.').at(-1) ?? fullName))
  return name
}

/** A field in a message's JSON form, with the message that declares it (an inline struct's, for inlined fields). */
export interface OwnedField {
  readonly jsonName: string
  readonly field: SchemaField
  readonly owner: string
}

/** The JSON fields of a message in field-number order, inline structs expanded; undefined for unknown messages. */
export function ownedFields(fullName: string): readonly OwnedField[] | undefined {
  const cached = owned.get(fullName)
  if (cached) return cached
  const fields = protoFields[fullName]
  if (!fields) return undefined
  const out = fields.flatMap((f) => f.inline ? ownedFields(f.type) ?? [] : [{ jsonName: f.jsonName ?? f.name, field: f, owner: fullName }])
  owned.set(fullName, out)
  return out
}
const owned = new Map<string, readonly OwnedField[]>()

/** Whether the descriptor has this message (full name: "k8s.io.api.apps.v1.Deployment"). */
export function hasSchemaMessage(fullName: string): boolean {
  return Object.hasOwn(protoFields, fullName)
}
