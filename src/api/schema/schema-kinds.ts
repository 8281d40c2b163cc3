/**
 * Which descriptor message holds each kind kpe decodes, and under which store resource it is
 * kept: the served kinds, plus the Scale and DeleteOptions bodies. Serving a kind adds one line.
 */

export interface SchemaKind {
  readonly apiVersion: string
  readonly kind: string
  /** The store's resource key ("services", "deployments.apps"); undefined for bodies that are no resource (Scale). */
  readonly resource: string | undefined
  /** A review kind: posted to its resource and answered, never stored. */
  readonly answered?: true
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
  { apiVersion: 'v1', kind: 'ReplicationController', resource: 'replicationcontrollers', message: `${core}.ReplicationController` },
  { apiVersion: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts', message: `${core}.ServiceAccount` },
  { apiVersion: 'v1', kind: 'PersistentVolume', resource: 'persistentvolumes', message: `${core}.PersistentVolume` },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims', message: `${core}.PersistentVolumeClaim` },
  { apiVersion: 'v1', kind: 'LimitRange', resource: 'limitranges', message: `${core}.LimitRange` },
  { apiVersion: 'v1', kind: 'ResourceQuota', resource: 'resourcequotas', message: `${core}.ResourceQuota` },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', resource: 'statefulsets.apps', message: `k8s.io.api.apps.v1.StatefulSet` },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', resource: 'daemonsets.apps', message: `k8s.io.api.apps.v1.DaemonSet` },
  { apiVersion: 'apps/v1', kind: 'ControllerRevision', resource: 'controllerrevisions.apps', message: `k8s.io.api.apps.v1.ControllerRevision` },
  { apiVersion: 'batch/v1', kind: 'Job', resource: 'jobs.batch', message: `k8s.io.api.batch.v1.Job` },
  { apiVersion: 'batch/v1', kind: 'CronJob', resource: 'cronjobs.batch', message: `k8s.io.api.batch.v1.CronJob` },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers.autoscaling', message: `k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler` },
  // Served beside v2 and stored as v2: listed after it so the store key resolves to the storage version.
  { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers.autoscaling', message: `k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler` },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', resource: 'ingresses.networking.k8s.io', message: `k8s.io.api.networking.v1.Ingress` },
  { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', resource: 'ingressclasses.networking.k8s.io', message: `k8s.io.api.networking.v1.IngressClass` },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', resource: 'networkpolicies.networking.k8s.io', message: `k8s.io.api.networking.v1.NetworkPolicy` },
  { apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', resource: 'servicecidrs.networking.k8s.io', message: `k8s.io.api.networking.v1.ServiceCIDR` },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', resource: 'poddisruptionbudgets.policy', message: `k8s.io.api.policy.v1.PodDisruptionBudget` },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', resource: 'roles.rbac.authorization.k8s.io', message: `k8s.io.api.rbac.v1.Role` },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', resource: 'rolebindings.rbac.authorization.k8s.io', message: `k8s.io.api.rbac.v1.RoleBinding` },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', resource: 'clusterroles.rbac.authorization.k8s.io', message: `k8s.io.api.rbac.v1.ClusterRole` },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', resource: 'clusterrolebindings.rbac.authorization.k8s.io', message: `k8s.io.api.rbac.v1.ClusterRoleBinding` },
  { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', resource: 'storageclasses.storage.k8s.io', message: `k8s.io.api.storage.v1.StorageClass` },
  { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', resource: 'leases.coordination.k8s.io', message: `k8s.io.api.coordination.v1.Lease` },
  // Stored with core Events (storedIn), so its store resource is theirs; the core entry comes first for lookups by resource.
  { apiVersion: 'events.k8s.io/v1', kind: 'Event', resource: 'events', message: `k8s.io.api.events.v1.Event` },
  { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', resource: 'priorityclasses.scheduling.k8s.io', message: `k8s.io.api.scheduling.v1.PriorityClass` },
  { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', resource: 'certificatesigningrequests.certificates.k8s.io', message: `k8s.io.api.certificates.v1.CertificateSigningRequest` },
  // Reviews are served like resources but answered, not stored (apiserver/access-reviews.ts).
  { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', resource: 'selfsubjectreviews.authentication.k8s.io', message: 'k8s.io.api.authentication.v1.SelfSubjectReview', answered: true },
  { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', resource: 'selfsubjectaccessreviews.authorization.k8s.io', message: 'k8s.io.api.authorization.v1.SelfSubjectAccessReview', answered: true },
  { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', resource: 'selfsubjectrulesreviews.authorization.k8s.io', message: 'k8s.io.api.authorization.v1.SelfSubjectRulesReview', answered: true },
  { apiVersion: 'autoscaling/v1', kind: 'Scale', resource: undefined, message: 'k8s.io.api.autoscaling.v1.Scale' },
  // Posted to pods/binding (or bindings) and applied to the Pod, never stored (apiserver/pod-binding.ts).
  { apiVersion: 'v1', kind: 'Binding', resource: undefined, message: `${core}.Binding` },
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
