/**
 * Parses request paths into what they address: version, discovery, OpenAPI, or a resource
 * request (group, version, namespace, resource, name, subresource). Pure.
 */
import { builtInCatalogue, type ResourceCatalogue, type ResourceInfo } from '../api/index.js'

export type ParsedPath =
  | { readonly kind: 'version' }
  | { readonly kind: 'health' }
  | { readonly kind: 'api-versions' }
  | { readonly kind: 'api-groups' }
  | { readonly kind: 'api-group'; readonly group: string }
  | { readonly kind: 'resource-list'; readonly group: string; readonly version: string }
  | { readonly kind: 'openapi-index' }
  | { readonly kind: 'openapi-v2' }
  | { readonly kind: 'openapi-gv'; readonly group: string; readonly version: string }
  | { readonly kind: 'resource'; readonly target: ResourceTarget }
  | { readonly kind: 'unknown' }

export interface ResourceTarget {
  readonly info: ResourceInfo
  /** Undefined for cluster-scoped resources and all-namespaces requests. */
  readonly namespace: string | undefined
  readonly name: string | undefined
  readonly subresource: string | undefined
}

export function parsePath(pathname: string, catalogue: ResourceCatalogue = builtInCatalogue): ParsedPath {
  const seg = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent)
  const [a, b, c, d] = seg
  if (a === 'version' && seg.length === 1) return { kind: 'version' }
  if ((a === 'healthz' || a === 'readyz' || a === 'livez') && seg.length === 1) return { kind: 'health' }
  if (a === 'openapi' && b === 'v2' && seg.length === 2) return { kind: 'openapi-v2' }
  if (a === 'openapi' && b === 'v3') {
    if (seg.length === 2) return { kind: 'openapi-index' }
    if (c === 'api' && d !== undefined && seg.length === 4) return { kind: 'openapi-gv', group: '', version: d }
    if (c === 'apis' && d !== undefined && seg[4] !== undefined && seg.length === 5) return { kind: 'openapi-gv', group: d, version: seg[4] }
    return { kind: 'unknown' }
  }
  if (a === 'api') {
    if (seg.length === 1) return { kind: 'api-versions' }
    if (b === undefined) return { kind: 'unknown' }
    return parseGroupVersionRest(catalogue, '', b, seg.slice(2))
  }
  if (a === 'apis') {
    if (seg.length === 1) return { kind: 'api-groups' }
    if (b === undefined) return { kind: 'unknown' }
    if (seg.length === 2) return { kind: 'api-group', group: b }
    if (c === undefined) return { kind: 'unknown' }
    return parseGroupVersionRest(catalogue, b, c, seg.slice(3))
  }
  return { kind: 'unknown' }
}

function parseGroupVersionRest(catalogue: ResourceCatalogue, group: string, version: string, rest: readonly string[]): ParsedPath {
  if (rest.length === 0) return { kind: 'resource-list', group, version }
  const [r0, r1, r2, r3, r4] = rest
  if (r0 === 'namespaces' && r1 !== undefined && r2 !== undefined) {
    const info = catalogue.find(group, version, r2)
    if (info?.namespaced && rest.length <= 5) {
      return { kind: 'resource', target: { info, namespace: r1, name: r3, subresource: r4 } }
    }
  }
  if (r0 === undefined || rest.length > 3) return { kind: 'unknown' }
  const info = catalogue.find(group, version, r0)
  if (!info) return { kind: 'unknown' }
  return { kind: 'resource', target: { info, namespace: undefined, name: r1, subresource: r2 } }
}
