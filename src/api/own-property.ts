/**
 * Own-property access for objects keyed by client-supplied strings (JSON bodies, patches, label
 * maps). `o[k] = v` with k = "__proto__" replaces o's prototype, and `o[k]` reads inherited
 * members; these helpers never reach a prototype, whatever the key.
 */

/** Sets `key` as an own, enumerable data property, even for "__proto__". */
export function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  // "__proto__" is the only accessor on Object.prototype; any other key assigned to a plain or
  // null-prototype object becomes an own property, and plain assignment keeps V8's fast objects.
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
  else o[key] = value
}

/** The own property `key` of `o`, or undefined; never an inherited member such as `constructor`. */
export function getOwn(o: unknown, key: string): unknown {
  return typeof o === 'object' && o !== null && Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined
}

/** Keys that name or reach a prototype when used with `o[k]`; never valid Kubernetes field names. */
export function isPrototypeKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype'
}
