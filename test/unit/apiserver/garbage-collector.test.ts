/**
 * Deletion as upstream's garbage collector and namespace controller do it, over HTTP against one
 * API server: Background, Foreground (foregroundDeletion) and Orphan (orphan) propagation, a
 * dependent with a second live owner, a Terminating namespace's conditions and its refusal of new
 * content, and the built-in namespaces that may not be deleted.
 */
import { describe, expect, it } from 'vitest'
import { apiServerPerTest, callJson } from '../../helpers/api-server.js'

type Json = Record<string, any>
const api = apiServerPerTest()
const cms = '/api/v1/namespaces/default/configmaps'

async function until(cond: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function setup(): Promise<{ base: string; make(name: string, meta?: Json, ns?: string): Promise<Json>; get(path: string): Promise<{ status: number; json: Json }> }> {
  const base = await api.start()
  const make = async (name: string, meta: Json = {}, ns = 'default'): Promise<Json> => {
    const r = await callJson(`${base}/api/v1/namespaces/${ns}/configmaps`, 'POST', { metadata: { name, ...meta } })
    expect(r.status, JSON.stringify(r.json)).toBe(201)
    return r.json
  }
  return { base, make, get: async (path) => callJson(base + path, 'GET') as Promise<{ status: number; json: Json }> }
}

const refTo = (o: Json, block = true): Json => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o['metadata']['name'], uid: o['metadata']['uid'], blockOwnerDeletion: block })

describe('garbage collection', () => {
  it('Background: the owner goes at once, a dependent follows, one with another live owner only loses the reference', async () => {
    const { base, make, get } = await setup()
    const owner = await make('owner')
    const other = await make('other')
    await make('child', { ownerReferences: [refTo(owner)] })
    await make('shared', { ownerReferences: [refTo(owner), refTo(other)] })
    expect((await callJson(`${base}${cms}/owner`, 'DELETE', { propagationPolicy: 'Background' })).status).toBe(200)
    expect((await get(`${cms}/owner`)).status).toBe(404)
    expect((await get(`${cms}/child`)).status).toBe(404)
    const shared = await get(`${cms}/shared`)
    expect(shared.status).toBe(200)
    expect(shared.json['metadata']['ownerReferences']).toEqual([refTo(other)])
  })

  it('Foreground: the owner waits with foregroundDeletion until its blocking dependents are gone', async () => {
    const { base, make, get } = await setup()
    const owner = await make('owner')
    // a finalizer of someone else's keeps the dependent (marked) until it is removed
    await make('held', { ownerReferences: [refTo(owner)], finalizers: ['example.com/hold'] })
    await make('loose', { ownerReferences: [refTo(owner, false)] })
    const del = await callJson(`${base}${cms}/owner`, 'DELETE', { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' })
    expect(del.status).toBe(200)
    const marked = await get(`${cms}/owner`)
    expect(marked.json['metadata']['finalizers']).toEqual(['foregroundDeletion'])
    expect(marked.json['metadata']['deletionTimestamp']).toEqual(expect.any(String))
    const held = await get(`${cms}/held`)
    expect(held.json['metadata']['deletionTimestamp']).toEqual(expect.any(String))
    // its own foregroundDeletion (it has no dependents) is lifted at once; the foreign finalizer stays
    await until(async () => String((await get(`${cms}/held`)).json['metadata']['finalizers']) === 'example.com/hold')
    await until(async () => (await get(`${cms}/loose`)).status === 404)
    expect((await get(`${cms}/owner`)).status).toBe(200)

    const fresh = (await get(`${cms}/held`)).json
    const released = await callJson(`${base}${cms}/held`, 'PUT', { ...fresh, metadata: { ...fresh['metadata'], finalizers: [] } })
    expect(released.status).toBe(200)
    await until(async () => (await get(`${cms}/held`)).status === 404 && (await get(`${cms}/owner`)).status === 404)
  })

  it('Orphan: dependents stay without the ownerReference, the owner goes', async () => {
    const { base, make, get } = await setup()
    const owner = await make('owner')
    await make('child', { ownerReferences: [refTo(owner)] })
    expect((await callJson(`${base}${cms}/owner?propagationPolicy=Orphan`, 'DELETE', { propagationPolicy: 'Orphan' })).status).toBe(200)
    await until(async () => (await get(`${cms}/owner`)).status === 404)
    const child = await get(`${cms}/child`)
    expect(child.status).toBe(200)
    expect(child.json['metadata']['ownerReferences']).toBeUndefined()
  })

  it('an update cannot start a deletion by setting deletionTimestamp', async () => {
    const { base, make, get } = await setup()
    const cm = await make('keep')
    const put = await callJson(`${base}${cms}/keep`, 'PUT', { ...cm, metadata: { ...cm['metadata'], deletionTimestamp: '2020-01-01T00:00:00Z' } })
    expect(put.status).toBe(200)
    expect((await get(`${cms}/keep`)).json['metadata']['deletionTimestamp']).toBeUndefined()
  })
})

describe('namespace deletion', () => {
  it('goes Terminating with upstream conditions, refuses new content, and is removed once empty', async () => {
    const { base, make, get } = await setup()
    expect((await callJson(`${base}/api/v1/namespaces`, 'POST', { metadata: { name: 'team' } })).status).toBe(201)
    await make('plain', {}, 'team')
    await make('held', { finalizers: ['example.com/hold'] }, 'team')
    expect((await callJson(`${base}/api/v1/namespaces/team`, 'DELETE')).status).toBe(200)
    await until(async () => (await get('/api/v1/namespaces/team')).json['status']?.['conditions'] !== undefined)
    const ns = (await get('/api/v1/namespaces/team')).json
    expect(ns['status']['phase']).toBe('Terminating')
    expect(ns['metadata']['deletionTimestamp']).toEqual(expect.any(String))
    const byType = Object.fromEntries((ns['status']['conditions'] as Json[]).map((c) => [c['type'], c]))
    expect(byType['NamespaceContentRemaining']).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: configmaps has 1 resource instances' })
    expect(byType['NamespaceFinalizersRemaining']).toMatchObject({ status: 'True', reason: 'SomeFinalizersRemain', message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances' })
    expect(byType['NamespaceDeletionContentFailure']).toMatchObject({ status: 'False', reason: 'ContentDeleted' })
    expect((await get('/api/v1/namespaces/team/configmaps/plain')).status).toBe(404)

    const refused = await callJson(`${base}/api/v1/namespaces/team/configmaps`, 'POST', { metadata: { name: 'late' } })
    expect(refused.status).toBe(403)
    expect(refused.json).toMatchObject({
      reason: 'Forbidden', code: 403,
      message: 'configmaps "late" is forbidden: unable to create new content in namespace team because it is being terminated',
      details: { causes: [{ reason: 'NamespaceTerminating', field: 'metadata.namespace', message: 'namespace team is being terminated' }] },
    })

    const held = (await get('/api/v1/namespaces/team/configmaps/held')).json
    expect((await callJson(`${base}/api/v1/namespaces/team/configmaps/held`, 'PUT', { ...held, metadata: { ...held['metadata'], finalizers: [] } })).status).toBe(200)
    await until(async () => (await get('/api/v1/namespaces/team')).status === 404)
  })

  it('refuses to delete the built-in namespaces', async () => {
    const { base } = await setup()
    const r = await callJson(`${base}/api/v1/namespaces/default`, 'DELETE')
    expect(r.status).toBe(403)
    expect(r.json).toMatchObject({ reason: 'Forbidden', message: 'namespaces "default" is forbidden: this namespace may not be deleted' })
  })
})
