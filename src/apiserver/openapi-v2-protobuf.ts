/**
 * The protobuf form of `/openapi/v2` that kubectl asks for (gnostic's openapi.v2.Document, media
 * type application/com.github.proto-openapi.spec.v2@v1.0+protobuf): kubectl's client-side
 * validation and its v2 fallbacks read only this form. Converts kpe's JSON document; the message
 * layout below is the subset of gnostic's OpenAPIv2.proto it needs (names, numbers, types).
 */
import protobuf from 'protobufjs'

/** What kubectl asks for. */
export const openApiV2ProtobufType = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'
/** What the answer is labelled: '@' is not a media type token character, and Go's mime parser refuses it. */
export const openApiV2ProtobufContentType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'

type Fields = Record<string, { type: string; id: number; rule?: 'repeated' }>
const one = (type: string, id: number) => ({ type, id })
const many = (type: string, id: number) => ({ type, id, rule: 'repeated' as const })

/** gnostic's messages, reduced to the fields kpe's documents use. */
const gnosticMessages: Record<string, Fields> = {
  Document: { swagger: one('string', 1), info: one('Info', 2), paths: one('Paths', 8), definitions: one('Definitions', 9) },
  Info: { title: one('string', 1), version: one('string', 2) },
  Paths: { path: many('NamedPathItem', 2) },
  NamedPathItem: { name: one('string', 1), value: one('PathItem', 2) },
  PathItem: { put: one('Operation', 3), post: one('Operation', 4), patch: one('Operation', 8) },
  Operation: { parameters: many('ParametersItem', 8), responses: one('Responses', 9), vendorExtension: many('NamedAny', 13) },
  ParametersItem: { parameter: one('Parameter', 1) },
  Parameter: { nonBodyParameter: one('NonBodyParameter', 2) },
  NonBodyParameter: { queryParameterSubSchema: one('QueryParameterSubSchema', 3) },
  QueryParameterSubSchema: { in: one('string', 2), name: one('string', 4), type: one('string', 6), uniqueItems: one('bool', 20) },
  Responses: { responseCode: many('NamedResponseValue', 1) },
  NamedResponseValue: { name: one('string', 1), value: one('ResponseValue', 2) },
  ResponseValue: { response: one('Response', 1) },
  Response: { description: one('string', 1) },
  Definitions: { additionalProperties: many('NamedSchema', 1) },
  NamedSchema: { name: one('string', 1), value: one('Schema', 2) },
  Schema: {
    ref: one('string', 1), format: one('string', 2), required: many('string', 19), additionalProperties: one('AdditionalPropertiesItem', 21),
    type: one('TypeItem', 22), items: one('ItemsItem', 23), properties: one('Properties', 25), vendorExtension: many('NamedAny', 31),
  },
  AdditionalPropertiesItem: { schema: one('Schema', 1), boolean: one('bool', 2) },
  TypeItem: { value: many('string', 1) },
  ItemsItem: { schema: many('Schema', 1) },
  Properties: { additionalProperties: many('NamedSchema', 1) },
  NamedAny: { name: one('string', 1), value: one('Any', 2) },
  Any: { yaml: one('string', 2) },
}

const documentType = protobuf.Root.fromJSON({
  nested: { openapi: { nested: { v2: { nested: Object.fromEntries(Object.entries(gnosticMessages).map(([n, fields]) => [n, { fields }])) } } } },
}).lookupType('openapi.v2.Document')

type Json = Record<string, unknown>
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Vendor extensions travel as YAML text (JSON is YAML). */
function extensions(o: Json): Json[] {
  return Object.entries(o).filter(([k]) => k.startsWith('x-')).map(([name, v]) => ({ name, value: { yaml: JSON.stringify(v) } }))
}

function schemaMessage(s: Json): Json {
  const out: Json = {}
  if (typeof s['$ref'] === 'string') out['ref'] = s['$ref']
  if (typeof s['format'] === 'string') out['format'] = s['format']
  if (typeof s['type'] === 'string') out['type'] = { value: [s['type']] }
  if (Array.isArray(s['required'])) out['required'] = s['required']
  if (isObj(s['items'])) out['items'] = { schema: [schemaMessage(s['items'])] }
  if (isObj(s['additionalProperties'])) out['additionalProperties'] = { schema: schemaMessage(s['additionalProperties']) }
  if (isObj(s['properties'])) out['properties'] = { additionalProperties: named(s['properties'], schemaMessage) }
  const ext = extensions(s)
  if (ext.length) out['vendorExtension'] = ext
  return out
}

function named(o: Json, convert: (v: Json) => Json): Json[] {
  return Object.entries(o).filter(([, v]) => isObj(v)).map(([name, v]) => ({ name, value: convert(v as Json) }))
}

function operationMessage(op: Json): Json {
  const parameters = (Array.isArray(op['parameters']) ? op['parameters'] : []).filter(isObj).map((p) => ({
    parameter: { nonBodyParameter: { queryParameterSubSchema: { in: p['in'], name: p['name'], type: p['type'], uniqueItems: p['uniqueItems'] === true } } },
  }))
  const responses = isObj(op['responses']) ? named(op['responses'], (r) => ({ response: { description: String(r['description'] ?? '') } })) : []
  return { parameters, responses: { responseCode: responses }, vendorExtension: extensions(op) }
}

/** Encodes a Swagger 2.0 JSON document (openapi.ts's openApiV2) as gnostic protobuf. */
export function encodeOpenApiV2(doc: Json): Uint8Array {
  const info = isObj(doc['info']) ? doc['info'] : {}
  const paths = isObj(doc['paths']) ? named(doc['paths'], (item) => {
    const out: Json = {}
    for (const verb of ['put', 'post', 'patch']) if (isObj(item[verb])) out[verb] = operationMessage(item[verb])
    return out
  }) : []
  const message = documentType.fromObject({
    swagger: doc['swagger'], info: { title: info['title'], version: info['version'] },
    paths: { path: paths },
    definitions: { additionalProperties: isObj(doc['definitions']) ? named(doc['definitions'], schemaMessage) : [] },
  })
  return documentType.encode(message).finish()
}

/** Decodes what encodeOpenApiV2 wrote, as a plain object (for tests and debugging). */
export function decodeOpenApiV2(bytes: Uint8Array): Json {
  return documentType.toObject(documentType.decode(bytes), { defaults: false }) as Json
}
