#!/usr/bin/env node
/**
 * Generates src/api/schema/api-markers.json: the code-generator markers upstream's .proto files
 * carry in field comments (+optional, +required, +patchStrategy, +patchMergeKey, +listType,
 * +listMapKey, +mapType), keyed "message.field". Marker values only: the prose is dropped.
 * Usage: npm run schema:markers [-- PROTO_ROOT [OUT_FILE]]
 */
import { writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { defaultProtoRoot, protoFiles } from './gen-api-schema.mjs'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const defaultOutFile = join(repoRoot, 'src', 'api', 'schema', 'api-markers.json')

/** The markers of one field's comment, or undefined when it has none kpe uses. */
export function fieldMarkers(comment) {
  const out = {}
  for (const line of (comment ?? '').split('\n')) {
    const m = /^\s*\+(optional|required|patchStrategy|patchMergeKey|listType|listMapKey|mapType)(?:=(\S+))?\s*$/.exec(line)
    if (!m) continue
    const [, name, value] = m
    if (name === 'optional' || name === 'required') out[name] = true
    else if (name === 'listMapKey') (out.listMapKeys ??= []).push(value)
    else if (value) out[name] = value
  }
  return Object.keys(out).length ? out : undefined
}

function allTypes(ns, into = []) {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type) into.push(child)
    if (child instanceof protobuf.Namespace) allTypes(child, into)
  }
  return into
}

export function generateApiMarkers(protoRoot = defaultProtoRoot) {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => join(protoRoot, target)
  root.loadSync(protoFiles(protoRoot), { keepCase: true, alternateCommentMode: true })
  const entries = []
  for (const t of allTypes(root)) {
    for (const f of t.fieldsArray) {
      const m = fieldMarkers(f.comment)
      if (m) entries.push([`${t.fullName.replace(/^\./, '')}.${f.name}`, m])
    }
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const lines = entries.map(([k, m]) => `    ${JSON.stringify(k)}: ${JSON.stringify(m)}`)
  return `{\n  "generatedBy": "scripts/gen-api-markers.mjs",\n  "fields": {\n${lines.join(',\n')}\n  }\n}\n`
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [protoRoot = defaultProtoRoot, outFile = defaultOutFile] = process.argv.slice(2)
  const text = generateApiMarkers(resolve(protoRoot))
  writeFileSync(outFile, text)
  console.log(`wrote ${relative(process.cwd(), outFile)} (${text.length} bytes)`)
}
