/**
 * Which descriptor message holds each kind kpe decodes, and under which store resource it is
 * kept: the served kinds, plus the Scale and DeleteOptions bodies. Serving a kind adds one line.
 */

export interface SchemaKind {
  readonly apiVersion: string
  readonly kind: string
  /** The store's resource key ("services", "deployments.apps"); undefined for bodies never stored. */
  readonly resource: string | undefined
  /** Full message name in api-schema.json. */
  readonly message: string
}

const core = 'k8s.io.api.core.v1'
const schemaKindList: readonly SchemaKind[] = [
  { apiVersion: 'v1', kind: 'Namespace', resource: 'namespaces', message: `${core}.Namespace` },
  { apiVersion: 'v1', kind: 'Node', resource: 'nodes', message: `${core}.Node` },
  { apiVersion: 'v1', kind: 'Pod', resource: 'pods', message: `${core}.Pod` },
  { apiVersion: 'v1', kind: 'Service', resource: 'services', message: `${core}.Service` },
  { apiVersion: 'v1', kind: 'Endpoints', resource: 'endpoints', message: `${core}.Endpoints` },
  { apiVersion: 'v1', kind: 'ConfigMap', resource: 'configmaps', message: `${core}.ConfigMap` },
  { apiVersion: 'v1', kind: 'Secret', resource: 'secrets', message: `${core}.Secret` },
  { apiVersion: 'v1', kind: 'Event', resource: 'events', message: `${core}.Event` },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', resource: 'endpointslices.discovery.k8s.io', message: 'k8s.io.api.discovery.v1.EndpointSlice' },
  { apiVersion: 'apps/v1', kind: 'Deployment', resource: 'deployments.apps', message: 'k8s.io.api.apps.v1.Deployment' },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', resource: 'replicasets.apps', message: 'k8s.io.api.apps.v1.ReplicaSet' },
  { apiVersion: 'autoscaling/v1', kind: 'Scale', resource: undefined, message: 'k8s.io.api.autoscaling.v1.Scale' },
  { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions', resource: undefined, message: 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions' },
]

export function schemaKindFor(apiVersion: string, kind: string): SchemaKind | undefined {
  return schemaKindList.find((k) => k.apiVersion === apiVersion && k.kind === kind)
}

export function schemaKindOfResource(resource: string): SchemaKind | undefined {
  return schemaKindList.find((k) => k.resource === resource)
}

export function schemaKinds(): readonly SchemaKind[] {
  return schemaKindList
}
