/**
 * The code-generator markers of the API's fields (api-markers.json, generated from upstream's
 * .proto comments by scripts/gen-api-markers.mjs): optional/required, strategic-merge strategy
 * and key, list and map types. The facts OpenAPI schemas and merge keys are built from.
 */
import markers from './api-markers.json' with { type: 'json' }

export interface FieldMarkers {
  readonly optional?: boolean
  readonly required?: boolean
  /** "merge", "retainKeys" or "merge,retainKeys". */
  readonly patchStrategy?: string
  readonly patchMergeKey?: string
  /** "atomic", "set" or "map". */
  readonly listType?: string
  readonly listMapKeys?: readonly string[]
  readonly mapType?: string
}

const byField = markers.fields as Record<string, FieldMarkers>

/** Markers of `field` (its proto name) in message `message` (full name); empty when it has none. */
export function fieldMarkers(message: string, field: string): FieldMarkers {
  const key = `${message}.${field}`
  return Object.hasOwn(byField, key) ? byField[key]! : {}
}
