/**
 * protobufjs message types built from kpe's committed API descriptor (api-schema.json), once, on
 * first use: the wire codec is protobufjs's; kpe only supplies names, numbers and types.
 * The upstream files are proto2, so scalars are unpacked and a field set to its zero value is kept.
 */
import protobuf from 'protobufjs'
import { protoFieldsOf, schemaMessageNames } from '../schema/api-schema.js'

let root: protobuf.Root | undefined

function buildRoot(): protobuf.Root {
  const r = new protobuf.Root()
  for (const fullName of schemaMessageNames()) {
    const dot = fullName.lastIndexOf('.')
    const type = new protobuf.Type(fullName.slice(dot + 1))
    for (const f of protoFieldsOf(fullName) ?? []) {
      const ref = f.type.includes('.') ? `.${f.type}` : f.type
      if (f.keyType !== undefined) type.add(new protobuf.MapField(f.name, f.number, f.keyType, ref))
      else type.add(new protobuf.Field(f.name, f.number, ref, f.repeated ? 'repeated' : 'optional'))
    }
    r.define(fullName.slice(0, dot)).add(type)
  }
  r.resolveAll()
  return r
}

/** The protobufjs type of a descriptor message ("k8s.io.api.core.v1.Service"); undefined if the descriptor has none. */
export function protoType(fullName: string): protobuf.Type | undefined {
  if (protoFieldsOf(fullName) === undefined) return undefined
  root ??= buildRoot()
  return root.lookupType(fullName)
}
