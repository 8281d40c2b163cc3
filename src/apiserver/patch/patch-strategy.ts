/**
 * List strategies for strategic merge patch: which lists merge by which key, which primitive
 * lists merge as sets, everything else is replaced whole. Mirrors the patchStrategy/patchMergeKey
 * struct tags of k8s.io/api for the kinds kpe serves. Pure.
 */

export type ListStrategy =
  | { readonly type: 'merge'; readonly key: string }
  | { readonly type: 'set' }
  | { readonly type: 'replace' }

const containerLists = new Set(['containers', 'initContainers', 'ephemeralContainers'])

const byField: Readonly<Record<string, string>> = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name',
  env: 'name', volumes: 'name', volumeMounts: 'mountPath', volumeDevices: 'devicePath',
  imagePullSecrets: 'name', conditions: 'type', hostAliases: 'ip', topologySpreadConstraints: 'topologyKey',
  ownerReferences: 'uid', resourceClaims: 'name', resizePolicy: 'resourceName', schedulingGates: 'name',
  podIPs: 'ip', hostIPs: 'ip', podCIDRs: '', taints: 'key',
}

/** `path` holds field names only (no indices), from the object root to the list. */
export function listStrategy(kind: string, path: readonly string[]): ListStrategy {
  const last = path.at(-1) ?? ''
  const parent = path.at(-2) ?? ''
  if (last === 'ports') {
    if (containerLists.has(parent)) return { type: 'merge', key: 'containerPort' }
    if (kind === 'Service' && path.length === 2 && parent === 'spec') return { type: 'merge', key: 'port' }
    return { type: 'replace' }
  }
  if (last === 'finalizers' && parent === 'metadata') return { type: 'set' }
  if (last === 'addresses' && kind === 'Node' && parent === 'status') return { type: 'merge', key: 'type' }
  if (last === 'taints' && kind !== 'Node') return { type: 'replace' }
  const key = Object.hasOwn(byField, last) ? byField[last] : undefined
  if (key) return { type: 'merge', key }
  return { type: 'replace' }
}
