/**
 * Deep freezing of stored objects, so a caller that mutates what the store handed out fails
 * loudly instead of silently changing committed state. Callers clone (structuredClone) to edit.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v)
  }
  return value
}
