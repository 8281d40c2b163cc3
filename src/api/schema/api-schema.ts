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
}

export type SchemaMessage = ReadonlyMap<string, SchemaField>

const messages = new Map<string, SchemaMessage>(
  Object.entries(descriptor.messages as Record<string, SchemaField[]>).map(([name, fields]) => [name, new Map(fields.map((f) => [f.name, f]))]),
)

export function schemaMessage(fullName: string): SchemaMessage | undefined {
  return messages.get(fullName)
}

export function isMessageType(type: string): boolean {
  return messages.has(type)
}

const goScalars: Readonly<Record<string, string>> = {
  string: 'string', bool: 'bool', int32: 'int32', int64: 'int64', uint32: 'uint32', uint64: 'uint64',
  double: 'float64', float: 'float32', bytes: '[]uint8',
}

/** "v1.ServiceSpec", "intstr.IntOrString", "int32": the Go spelling of a field's element type. */
export function goTypeName(type: string): string {
  const scalar = goScalars[type]
  if (scalar) return scalar
  const parts = type.split('.')
  return `${parts.at(-2) ?? ''}.${parts.at(-1) ?? type}`
}

/** The Go spelling of the field's whole type: "[]string", "map[string]string", "v1.PodSpec". */
export function goFieldTypeName(f: SchemaField): string {
  const elem = goTypeName(f.type)
  if (f.keyType) return `map[${f.keyType}]${elem}`
  return f.repeated ? `[]${elem}` : elem
}

/** "ServiceSpec" from "k8s.io.api.core.v1.ServiceSpec": the struct name in Go's decode errors. */
export function goStructName(fullName: string): string {
  return fullName.split('.').at(-1) ?? fullName
}
