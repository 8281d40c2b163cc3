/**
 * A write to a Deployment's annotations (kubectl annotate ... change-cause) that lands while the
 * deployment controller reconciles it must survive: the controller stamps only the revision onto the
 * live object, it does not put back the annotations it read at the start.
 */
import { afterEach, expect, it } from 'vitest'
import { ApiServer, LocalApiClient, randomIds } from '../../../src/apiserver/index.js'
import { deploymentController, resources, type ControllerClient } from '../../../src/controllers/index.js'
import { openMemoryStore, type KubeObject, type VersionedStore } from '../../../src/store/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
afterEach(async () => {
  await server?.close()
  await store?.close()
})

const changeCause = 'kubernetes.io/change-cause'

it('keeps an annotation written to the Deployment mid-reconcile, and copies it to the new ReplicaSet', async () => {
  const clock = { now: () => Date.parse('2026-01-01T00:00:00Z') }
  store = await openMemoryStore()
  server = await ApiServer.start({ store, port: 0, clock, admissionHooks: [] })
  const api = new LocalApiClient({ store, clock, ids: randomIds, admissionHooks: server.admissionHooks, catalogue: server.catalogue, afterDelete: server.garbageCollector.deps.afterDelete })
  const deployment = (): KubeObject => store!.get({ resource: 'deployments.apps', namespace: 'default', name: 'web' })!
  let annotated = false
  // kubectl annotate lands right after the controller created the ReplicaSet, i.e. after it read the Deployment
  const client: ControllerClient = {
    create: async (info, object) => {
      const out = await api.create(info, object)
      if (info === resources.replicaSets && !annotated) {
        annotated = true
        const d = deployment()
        await api.update(resources.deployments, { ...d, metadata: { ...d.metadata, annotations: { ...d.metadata.annotations, [changeCause]: 'to 2.54' } } })
      }
      return out
    },
    update: (info, object) => api.update(info, object),
    updateStatus: (info, object) => api.updateStatus(info, object),
    delete: (info, namespace, name, opts) => api.delete(info, namespace, name, opts),
  }
  const controller = deploymentController(store, client, clock)
  await api.create(resources.deployments, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'agnhost:2.54' }] } } },
  })
  // the annotate's watch event queues the Deployment again: a few reconciles, as the loop would run them
  for (let i = 0; i < 3; i++) await controller.reconcile('default/web')
  expect(annotated).toBe(true)
  expect(deployment().metadata.annotations).toMatchObject({ [changeCause]: 'to 2.54', 'deployment.kubernetes.io/revision': '1' })
  const [rs] = store.list('replicasets.apps', { namespace: 'default' }).items
  expect(rs?.metadata.annotations?.[changeCause]).toBe('to 2.54')
})
