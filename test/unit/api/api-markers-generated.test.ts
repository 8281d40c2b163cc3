import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { defaultOutFile, fieldMarkers, generateApiMarkers } from '../../../scripts/gen-api-markers.mjs'
import { defaultProtoRoot } from '../../../scripts/gen-api-schema.mjs'

const haveProtos = existsSync(defaultProtoRoot)
if (!haveProtos && process.env['CI']) throw new Error(`the upstream .proto files are missing at ${defaultProtoRoot}; CI must have ../shared`)
if (!haveProtos) console.warn(`skipping the api-markers drift check: ${defaultProtoRoot} is absent (no ../shared outside CI)`)

describe('field markers', () => {
  it('keep marker values and drop every line of prose', () => {
    const comment = 'List of things.\nMore words: +optional is a word here.\n+optional\n+patchMergeKey=name\n+patchStrategy=merge\n+listType=map\n+listMapKey=name\n+listMapKey=protocol'
    expect(fieldMarkers(comment)).toEqual({ optional: true, patchMergeKey: 'name', patchStrategy: 'merge', listType: 'map', listMapKeys: ['name', 'protocol'] })
    expect(fieldMarkers('Just prose.')).toBeUndefined()
    expect(fieldMarkers(undefined)).toBeUndefined()
  })
})

describe.skipIf(!haveProtos)('src/api/schema/api-markers.json', () => {
  it('is exactly what scripts/gen-api-markers.mjs generates from the upstream .proto files', () => {
    expect(readFileSync(defaultOutFile, 'utf8')).toBe(generateApiMarkers(defaultProtoRoot))
  })
})
