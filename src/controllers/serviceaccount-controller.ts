/**
 * The ServiceAccount controller: every active namespace has a `default` ServiceAccount, as kube's
 * controller manager ensures (Pods that name no account, and `kubectl create deployment` Pods,
 * run as it). Recreates it when deleted while its namespace lives.
 */
import type { ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import type { ControllerDefinition } from './controller-loop.js'

export const defaultServiceAccount = 'default'

export function serviceAccountController(store: ObjectStore, client: ControllerClient): ControllerDefinition {
  return {
    name: 'serviceaccount-controller',
    watches: [
      { resource: storage.namespaces, keysOf: (ev) => (ev.type === 'DELETED' ? [] : [ev.object.metadata.name ?? '']) },
      { resource: storage.serviceAccounts, keysOf: (ev) => (ev.type === 'DELETED' && ev.object.metadata.name === defaultServiceAccount ? [ev.object.metadata.namespace ?? ''] : []) },
    ],
    initialKeys: () => store.list(storage.namespaces).items.map((n) => n.metadata.name ?? ''),
    reconcile: async (namespace) => {
      const ns = store.get({ resource: storage.namespaces, namespace: '', name: namespace })
      if (!ns || ns.metadata.deletionTimestamp || (ns['status'] as { phase?: string } | undefined)?.phase === 'Terminating') return
      if (store.get({ resource: storage.serviceAccounts, namespace, name: defaultServiceAccount })) return
      await client.create(resources.serviceAccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: defaultServiceAccount, namespace } })
    },
  }
}
