/**
 * What controllers need from the API: writes that go through the API server's pipeline (so
 * defaulting, admission and validation apply to them as to kubectl's), and the resources they
 * touch. LocalApiClient (src/apiserver) is the in-process implementation.
 */
import { findResource, type Binding, type ResourceInfo } from '../api/index.js'
import { InternalError } from '../errors.js'
import type { KubeObject } from '../store/index.js'

export interface ControllerClient {
  create(info: ResourceInfo, object: KubeObject): Promise<KubeObject>
  /** Fails with a 409 Conflict ApiError when object.metadata.resourceVersion is stale. */
  update(info: ResourceInfo, object: KubeObject): Promise<KubeObject>
  updateStatus(info: ResourceInfo, object: KubeObject): Promise<KubeObject>
  delete(info: ResourceInfo, namespace: string | undefined, name: string, opts?: { gracePeriodSeconds?: number; propagationPolicy?: 'Orphan' | 'Background' | 'Foreground'; preconditions?: { uid?: string; resourceVersion?: string } }): Promise<KubeObject>
}

/**
 * Binds a Pod to a Node with one write, as a scheduler posts pods/NAME/binding: fails with a
 * 409 Conflict ApiError when the Pod is bound already, being deleted, or not the one the
 * Binding's uid/resourceVersion name.
 */
export interface PodBinder {
  bind(namespace: string, binding: Binding): Promise<KubeObject>
}

function served(group: string, version: string, resource: string): ResourceInfo {
  const r = findResource(group, version, resource)
  if (!r) throw new InternalError(`resource ${resource}.${group} is not served`)
  return r
}

export const resources = {
  pods: served('', 'v1', 'pods'),
  services: served('', 'v1', 'services'),
  nodes: served('', 'v1', 'nodes'),
  endpoints: served('', 'v1', 'endpoints'),
  endpointSlices: served('discovery.k8s.io', 'v1', 'endpointslices'),
  deployments: served('apps', 'v1', 'deployments'),
  replicaSets: served('apps', 'v1', 'replicasets'),
  serviceAccounts: served('', 'v1', 'serviceaccounts'),
  events: served('events.k8s.io', 'v1', 'events'),
  coreEvents: served('', 'v1', 'events'),
  leases: served('coordination.k8s.io', 'v1', 'leases'),
  statefulSets: served('apps', 'v1', 'statefulsets'),
  daemonSets: served('apps', 'v1', 'daemonsets'),
  jobs: served('batch', 'v1', 'jobs'),
  cronJobs: served('batch', 'v1', 'cronjobs'),
} as const

/** Store keys ("resource" part) of the resources above. */
export const storage = {
  pods: 'pods',
  services: 'services',
  nodes: 'nodes',
  endpoints: 'endpoints',
  endpointSlices: 'endpointslices.discovery.k8s.io',
  deployments: 'deployments.apps',
  replicaSets: 'replicasets.apps',
  serviceAccounts: 'serviceaccounts',
  namespaces: 'namespaces',
  events: 'events',
  leases: 'leases.coordination.k8s.io',
  statefulSets: 'statefulsets.apps',
  daemonSets: 'daemonsets.apps',
  jobs: 'jobs.batch',
  cronJobs: 'cronjobs.batch',
} as const
