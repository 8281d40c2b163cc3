import { afterEach, expect, it } from 'vitest'
import { ApiServer, type AdmissionHook } from '../../../src/apiserver/index.js'
import { openMemoryStore, type KubeObject, type VersionedStore } from '../../../src/store/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
afterEach(async () => {
  await server?.close()
  await store?.close()
})

it('a graceful deletion that races a write to the same object is retried, not answered 409 (no precondition given)', async () => {
  let raced = 0
  const hook: AdmissionHook = {
    name: 'racing-status-writer',
    async beforeDelete(old, ctx) {
      if (ctx.resource.resource !== 'configmaps') return
      if (raced++ === 0) {
        // another writer (a kubelet's status update, say) lands between the read and the commit
        await store!.transact([{ type: 'update', resource: 'configmaps', object: { ...old, data: { bumped: 'yes' } } as KubeObject, preconditions: { resourceVersion: old.metadata.resourceVersion ?? '' } }])
      }
      return { replaceDeletionWith: { ...old, metadata: { ...old.metadata, deletionTimestamp: '2026-12-06T00:00:00Z' } } }
    },
  }
  store = await openMemoryStore()
  server = await ApiServer.start({ store, port: 0, admissionHooks: [hook], bookmarkIntervalMs: 60_000 })
  const cms = `${server.url}/api/v1/namespaces/default/configmaps`
  expect((await fetch(cms, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ metadata: { name: 'c' } }) })).status).toBe(201)
  const del = await fetch(`${cms}/c`, { method: 'DELETE' })
  expect(del.status).toBe(200)
  expect(raced).toBe(2)
  const live = (await (await fetch(`${cms}/c`)).json()) as KubeObject
  expect(live.metadata.deletionTimestamp).toBe('2026-12-06T00:00:00Z')
  expect(live['data']).toEqual({ bumped: 'yes' })
  const pinned = await fetch(`${cms}/c`, { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ preconditions: { resourceVersion: '1' } }) })
  expect(pinned.status).toBe(409)
})
