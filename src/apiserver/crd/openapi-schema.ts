/**
 * The OpenAPI v3 schema of a custom resource: its CRD's openAPIV3Schema with apiVersion, kind
 * and a metadata reference to ObjectMeta, tagged with its group-version-kind (which is how
 * `kubectl explain` finds it), named as kube-apiserver names it (reversed group, version, kind).
 */
import type { ResourceInfo } from '../../api/index.js'

export const objectMetaMessage = 'k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta'
const objectMetaRef = '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'

/** "com.example.stable.v1.CronTab" for group stable.example.com. */
export function customDefinitionName(r: ResourceInfo): string {
  return `${r.group.split('.').reverse().join('.')}.${r.version}.${r.kind}`
}

export function customResourceSchemas(rs: readonly ResourceInfo[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const r of rs) {
    if (!r.custom) continue
    const schema = structuredClone(r.custom.schema) as Record<string, unknown>
    const properties = { ...(schema['properties'] as Record<string, unknown> | undefined) }
    properties['apiVersion'] = { type: 'string', description: 'The versioned schema of this object.' }
    properties['kind'] = { type: 'string', description: 'The REST resource this object represents.' }
    properties['metadata'] = { allOf: [{ $ref: objectMetaRef }], description: 'Standard object metadata.' }
    const gvk = { group: r.group, version: r.version, kind: r.kind }
    out[customDefinitionName(r)] = { ...schema, properties, 'x-kubernetes-group-version-kind': [gvk] }
    out[`${customDefinitionName(r)}List`] = {
      type: 'object', required: ['items'],
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, items: { type: 'array', items: { $ref: `#/components/schemas/${customDefinitionName(r)}` } }, metadata: { type: 'object' } },
      'x-kubernetes-group-version-kind': [{ ...gvk, kind: `${r.kind}List` }],
    }
  }
  return out
}
