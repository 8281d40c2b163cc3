/**
 * Which descriptor message encodes an apiVersion/kind: the served kinds' own table first, then
 * upstream's package layout (group "networking.k8s.io" lives in k8s.io.api.networking, the core
 * group in k8s.io.api.core), then the meta kinds every group version shares (Status, DeleteOptions).
 */
import { schemaKindFor } from '../schema/schema-kinds.js'
import { protoFieldsOf } from '../schema/api-schema.js'

const metaPackage = 'k8s.io.apimachinery.pkg.apis.meta.v1'

function groupPackage(apiVersion: string): string | undefined {
  const slash = apiVersion.indexOf('/')
  if (slash < 0) return apiVersion === '' ? undefined : `k8s.io.api.core.${apiVersion}`
  const group = apiVersion.slice(0, slash)
  const version = apiVersion.slice(slash + 1)
  return `k8s.io.api.${group.split('.')[0] ?? group}.${version}`
}

/** The full message name, or undefined when the descriptor has no message for that kind. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  if (!/^[A-Za-z0-9]+$/.test(kind)) return undefined
  const served = schemaKindFor(apiVersion, kind)
  if (served) return served.message
  const pkg = groupPackage(apiVersion)
  if (pkg !== undefined && protoFieldsOf(`${pkg}.${kind}`)) return `${pkg}.${kind}`
  if (protoFieldsOf(`${metaPackage}.${kind}`)) return `${metaPackage}.${kind}`
  return undefined
}
