/**
 * The OpenAPI documents: the v3 index, one v3 document per group-version and the v2 document
 * (JSON, or gnostic protobuf for kubectl), all derived from the resource table. Paths carry one operation per verb kubectl
 * probes (fieldValidation support); schemas come from openapi-schemas.ts.
 */
import { createHash } from 'node:crypto'
import { kindSchemas, type GroupVersionKind, type OpenApiDialect } from './openapi-schemas.js'
import { encodeOpenApiV2, openApiV2ProtobufContentType, openApiV2ProtobufType } from './openapi-v2-protobuf.js'
import { customResourceSchemas, objectMetaMessage } from './crd/openapi-schema.js'
import { apiVersionOf, builtInCatalogue, hasSchemaMessage, type ResourceCatalogue, type ResourceInfo, schemaKindFor, servedResources } from '../api/index.js'

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`
}

const scaleMessage = 'k8s.io.api.autoscaling.v1.Scale'
const scaleGvk: GroupVersionKind = { group: 'autoscaling', version: 'v1', kind: 'Scale' }

/** Message name → GVKs for the resources given: each kind, its List, and Scale where a scale subresource exists. */
function kindsOf(rs: readonly ResourceInfo[]): Map<string, GroupVersionKind[]> {
  const kinds = new Map<string, GroupVersionKind[]>()
  const add = (message: string, gvk: GroupVersionKind): void => {
    if (!hasSchemaMessage(message)) return
    const list = kinds.get(message) ?? []
    if (!list.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) list.push(gvk)
    kinds.set(message, list)
  }
  for (const r of rs) {
    if (r.custom) add(objectMetaMessage, { group: 'meta.k8s.io', version: 'v1', kind: 'ObjectMeta' })
    const sk = schemaKindFor(apiVersionOf(r), r.kind)
    if (!sk) continue
    add(sk.message, { group: r.group, version: r.version, kind: r.kind })
    if (r.verbs.includes('list')) add(`${sk.message}List`, { group: r.group, version: r.version, kind: `${r.kind}List` })
    if (r.subresources.includes('scale')) add(scaleMessage, scaleGvk)
  }
  return kinds
}

function paths(rs: readonly ResourceInfo[], dialect: OpenApiDialect): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const param = dialect === 'v3'
    ? { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }
    : { name: 'fieldValidation', in: 'query', type: 'string', uniqueItems: true }
  for (const r of rs) {
    const prefix = `/${gvPath(r.group, r.version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}`
    const op = (code: string) => ({ 'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind }, parameters: [param], responses: { [code]: { description: 'OK' } } })
    if (r.verbs.includes('patch') || r.verbs.includes('update')) out[`${prefix}/{name}`] = { patch: op('200'), put: op('200') }
    if (r.verbs.includes('create')) out[prefix] = { post: op('201') }
  }
  return out
}

const info = { title: 'Kubernetes', version: 'v1.32.0' }

// Each document is built once per catalogue generation (a CRD change starts a new one).
const documents = new WeakMap<ResourceCatalogue, { generation: number; docs: Map<string, unknown> }>()
function memo(c: ResourceCatalogue, key: string, build: () => unknown): unknown {
  let cache = documents.get(c)
  if (cache?.generation !== c.generation) {
    cache = { generation: c.generation, docs: new Map() }
    documents.set(c, cache)
  }
  if (!cache.docs.has(key)) cache.docs.set(key, build())
  return cache.docs.get(key)
}

export function openApiGroupVersion(group: string, version: string, c: ResourceCatalogue = builtInCatalogue): unknown | undefined {
  const rs = c.resources.filter((r) => r.group === group && r.version === version)
  if (rs.length === 0) return undefined
  return memo(c, `v3:${group}/${version}`, () => ({
    openapi: '3.0.0', info, paths: paths(rs, 'v3'),
    components: { schemas: { ...kindSchemas(kindsOf(rs), 'v3'), ...customResourceSchemas(rs) } },
  }))
}

/** The Swagger 2.0 document for every served kind (`/openapi/v2`). */
export function openApiV2(): unknown {
  return memo(builtInCatalogue, 'v2', () => ({ swagger: '2.0', info, paths: paths(servedResources, 'v2'), definitions: kindSchemas(kindsOf(servedResources), 'v2') }))
}

/**
 * The form of `/openapi/v2` an Accept header asks for: kubectl asks for gnostic protobuf only,
 * other clients for JSON; undefined when neither is acceptable (406).
 */
export function openApiV2Form(accept: string | undefined): 'protobuf' | 'json' | undefined {
  if (accept === undefined || accept.trim() === '') return 'json'
  const types = accept.split(',').map((a) => a.split(';')[0]!.trim().toLowerCase())
  for (const t of types) {
    if (t === openApiV2ProtobufType || t === openApiV2ProtobufContentType) return 'protobuf'
    if (t === 'application/json' || t === '*/*' || t === 'application/*') return 'json'
  }
  return undefined
}

/** The v2 document in gnostic protobuf (openapi-v2-protobuf.ts). */
export function openApiV2Protobuf(): Uint8Array {
  return memo(builtInCatalogue, 'v2pb', () => encodeOpenApiV2(openApiV2() as Record<string, unknown>)) as Uint8Array
}

export function openApiIndex(c: ResourceCatalogue = builtInCatalogue): unknown {
  return memo(c, 'index', () => buildIndex(c))
}

function buildIndex(c: ResourceCatalogue): unknown {
  const out: Record<string, unknown> = {}
  for (const gv of c.groupVersions()) {
    const doc = JSON.stringify(openApiGroupVersion(gv.group, gv.version, c))
    const hash = createHash('sha512').update(doc).digest('hex').slice(0, 32).toUpperCase()
    out[gvPath(gv.group, gv.version)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv.group, gv.version)}?hash=${hash}` }
  }
  return { paths: out }
}

export function versionInfo(): unknown {
  return {
    major: '1', minor: '32', gitVersion: 'v1.32.0-kpe', gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23', compiler: 'gc', platform: 'linux/amd64',
  }
}
