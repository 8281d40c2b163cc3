/**
 * Patch engines for PATCH requests: JSON merge patch, JSON patch, strategic merge patch, and the
 * merge used by server-side apply, plus minimal managedFields bookkeeping. Pure functions.
 */
export { applyMergePatch } from './merge-patch.js'
export { applyJsonPatch } from './json-patch.js'
export { applyStrategicMergePatch, type StrategicMergeOptions } from './strategic-merge-patch.js'
export { listStrategy, type ListStrategy } from './patch-strategy.js'
export {
  fieldsV1Of, recordManager, recordUpdate, managedFieldsOf, planApply, applyConflictMessage, describeManager,
  type ManagedFieldsEntry, type ApplyConflict, type ApplyPlan,
} from './managed-fields.js'
export { formatFieldPath, fieldPathsOf, type FieldPath } from './field-set.js'
export { PatchError } from './patch-error.js'
export { deepEqual, isPlainObject, type JsonObject } from './json-value.js'
