/**
 * DELETE with DeleteOptions.dryRun in the body (kubectl delete --dry-run=server sends it there):
 * nothing is deleted or marked, for one object, a Pod and a collection;
 * a value other than "All" is a 422 naming the field.
 */
import { afterEach, expect, it } from 'vitest'
import { ApiServer } from '../../../src/apiserver/index.js'
import { openMemoryStore, type KubeObject, type VersionedStore } from '../../../src/store/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
afterEach(async () => {
  await server?.close()
  await store?.close()
})

const json = { 'Content-Type': 'application/json' }

async function start(): Promise<string> {
  store = await openMemoryStore()
  server = await ApiServer.start({ store, port: 0, bookmarkIntervalMs: 60_000 })
  return `${server.url}/api/v1/namespaces/default`
}

async function create(url: string, body: object): Promise<void> {
  const r = await fetch(url, { method: 'POST', headers: json, body: JSON.stringify(body) })
  expect(r.status, await r.clone().text()).toBe(201)
}

it('DeleteOptions {dryRun: ["All"]} in the body deletes nothing: one object, a Pod, a collection', async () => {
  const base = await start()
  await create(`${base}/configmaps`, { metadata: { name: 'keep' }, data: { k: 'v' } })
  await create(`${base}/configmaps`, { metadata: { name: 'keep2' } })
  await create(`${base}/pods`, { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } })
  const dry = JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'], propagationPolicy: 'Background' })

  const one = await fetch(`${base}/configmaps/keep`, { method: 'DELETE', headers: json, body: dry })
  expect(one.status).toBe(200)
  expect(((await one.json()) as KubeObject).metadata.name).toBe('keep')
  const pod = await fetch(`${base}/pods/p`, { method: 'DELETE', headers: json, body: dry })
  expect(pod.status).toBe(200)
  expect(((await pod.json()) as KubeObject).metadata.name).toBe('p')
  const all = await fetch(`${base}/configmaps`, { method: 'DELETE', headers: json, body: dry })
  expect(all.status).toBe(200)

  expect(store!.get({ resource: 'configmaps', namespace: 'default', name: 'keep' })?.['data']).toEqual({ k: 'v' })
  expect(store!.get({ resource: 'configmaps', namespace: 'default', name: 'keep2' })).toBeDefined()
  expect(store!.get({ resource: 'pods', namespace: 'default', name: 'p' })).toBeDefined()

  // the same request without dryRun does delete: the test above is not vacuous
  expect((await fetch(`${base}/configmaps/keep`, { method: 'DELETE', headers: json, body: JSON.stringify({ propagationPolicy: 'Background' }) })).status).toBe(200)
  expect(store!.get({ resource: 'configmaps', namespace: 'default', name: 'keep' })).toBeUndefined()
})

it('a dryRun value other than "All" is 422 Invalid on DeleteOptions, naming dryRun[i], and deletes nothing', async () => {
  const base = await start()
  await create(`${base}/configmaps`, { metadata: { name: 'keep' } })
  const r = await fetch(`${base}/configmaps/keep`, { method: 'DELETE', headers: json, body: JSON.stringify({ dryRun: ['All', 'Bogus'] }) })
  expect(r.status).toBe(422)
  const status = (await r.json()) as { reason: string; message: string; details: { kind: string; group: string; causes: { field: string; reason: string }[] } }
  expect(status.reason).toBe('Invalid')
  expect(status.details).toMatchObject({ kind: 'DeleteOptions', group: 'meta.k8s.io', causes: [{ field: 'dryRun[1]', reason: 'FieldValueNotSupported' }] })
  expect(status.message).toBe('DeleteOptions.meta.k8s.io "" is invalid: dryRun[1]: Unsupported value: "Bogus": supported values: "All"')
  expect(store!.get({ resource: 'configmaps', namespace: 'default', name: 'keep' })).toBeDefined()
})
