/**
 * The `namespace/name` key of an object, in one place (upstream types.NamespacedName.String()).
 * Maps, watches, change trackers and logs all key objects by it; a cluster-scoped object is `/name`.
 */

export interface NamedObject {
  readonly metadata?: { readonly namespace?: string; readonly name?: string }
}

export function namespacedName(namespace: string, name: string): string {
  return `${namespace}/${name}`
}

/**
 * An object's key. `defaultNamespace` stands in for an unset namespace: '' (the store's form,
 * and upstream's) unless the object comes from a manifest, where kubectl would apply 'default'.
 */
export function objectKey(o: NamedObject, defaultNamespace = ''): string {
  return namespacedName(o.metadata?.namespace ?? defaultNamespace, o.metadata?.name ?? '')
}
