/**
 * List strategies for strategic merge patch: which lists merge by which key, which primitive
 * lists merge as sets, everything else is replaced whole. Read from the patchStrategy and
 * patchMergeKey markers of the API descriptor for every kind with a schema; the hand table
 * below covers kinds without one. Pure.
 */
import { fieldMarkers, ownedFields, schemaKinds } from '../../api/index.js'

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

/** The list field at `path` in the kind's descriptor message, with its declaring message; undefined when unknown. */
function describedList(kind: string, path: readonly string[]): { owner: string; field: string; scalar: boolean } | undefined {
  let message = schemaKinds().find((k) => k.kind === kind && k.resource !== undefined)?.message
  let found: { owner: string; field: string; scalar: boolean } | undefined
  for (const name of path) {
    if (message === undefined) return undefined
    const f = ownedFields(message)?.find((o) => o.jsonName === name)
    if (!f) return undefined
    found = { owner: f.owner, field: f.field.name, scalar: !f.field.type.includes('.') }
    message = f.field.type.includes('.') ? f.field.type : undefined
  }
  return found
}

/** The strategy the descriptor's markers give the list at `path`; undefined when the kind has no schema or the path is unknown. */
function markedStrategy(kind: string, path: readonly string[]): ListStrategy | undefined {
  const list = describedList(kind, path)
  if (!list) return undefined
  const m = fieldMarkers(list.owner, list.field)
  const merges = (m.patchStrategy ?? '').split(',').includes('merge')
  if (merges && m.patchMergeKey) return { type: 'merge', key: m.patchMergeKey }
  if (merges && list.scalar) return { type: 'set' }
  return { type: 'replace' }
}

/** `path` holds field names only (no indices), from the object root to the list. */
export function listStrategy(kind: string, path: readonly string[]): ListStrategy {
  return markedStrategy(kind, path) ?? handListStrategy(kind, path)
}

function handListStrategy(kind: string, path: readonly string[]): ListStrategy {
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
