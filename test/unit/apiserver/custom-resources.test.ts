import { afterEach, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../src/apiserver/index.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined

afterEach(async () => {
  await server?.close()
  await store?.close()
  server = undefined
  store = undefined
})

async function start(): Promise<string> {
  store = await openMemoryStore()
  server = await ApiServer.start({ store, port: 0, admissionHooks: [] })
  return server.url
}

type Json = Record<string, any>

async function call(base: string, method: string, path: string, body?: unknown, type = 'application/json', accept = 'application/json'): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path, { method, headers: { 'Content-Type': type, Accept: accept }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  return { status: res.status, body: await res.json() as Json }
}

const crontabs = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com', scope: 'Namespaced',
    names: { plural: 'crontabs', kind: 'CronTab', shortNames: ['ct'], categories: ['all'] },
    versions: [{
      name: 'v1', served: true, storage: true, subresources: { status: {} },
      additionalPrinterColumns: [{ name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' }, { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' }, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: { type: 'object', required: ['cronSpec'], properties: { cronSpec: { type: 'string' }, replicas: { type: 'integer', minimum: 1, default: 1 } } },
            status: { type: 'object', properties: { ready: { type: 'boolean' } } },
          },
        },
      },
    }],
  },
}

/** The catalogue follows the store's watch: wait until the resource answers. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error('timed out')
}

const crPath = '/apis/stable.example.com/v1/namespaces/default/crontabs'

describe('CustomResourceDefinitions', () => {
  it('rejects an invalid CRD naming each field', async () => {
    const base = await start()
    const bad = structuredClone(crontabs) as Json
    bad['metadata']['name'] = 'wrong'
    bad['spec']['group'] = 'nodots'
    bad['spec']['scope'] = 'Galaxy'
    bad['spec']['versions'][0]['storage'] = false
    delete bad['spec']['versions'][0]['schema']
    const r = await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', bad)
    expect(r.status).toBe(422)
    expect(r.body['details']['causes'].map((c: Json) => c['field']).sort()).toEqual(
      ['metadata.name', 'spec.group', 'spec.scope', 'spec.versions', 'spec.versions[0].schema.openAPIV3Schema'])
  })

  it('serves the resources of a CRD: established status, discovery, pruning, defaults, validation, tables, deletion', async () => {
    const base = await start()
    const created = await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crontabs)
    expect(created.status).toBe(201)
    expect(created.body['spec']['names']).toMatchObject({ singular: 'crontab', listKind: 'CronTabList' })
    expect(created.body['status']['conditions'].map((c: Json) => [c['type'], c['status']])).toEqual([['NamesAccepted', 'True'], ['Established', 'True']])
    expect(created.body['status']['acceptedNames']).toMatchObject({ plural: 'crontabs', kind: 'CronTab' })

    await until(async () => (await call(base, 'GET', crPath)).status === 200)
    const list = await call(base, 'GET', '/apis/stable.example.com/v1')
    expect(list.body['resources']).toContainEqual(expect.objectContaining({ name: 'crontabs', kind: 'CronTab', namespaced: true, shortNames: ['ct'] }))
    expect(list.body['resources']).toContainEqual(expect.objectContaining({ name: 'crontabs/status' }))
    expect((await call(base, 'GET', '/apis')).body['groups'].map((g: Json) => g['name'])).toContain('stable.example.com')
    const openapi = await call(base, 'GET', '/openapi/v3/apis/stable.example.com/v1')
    expect(openapi.body['components']['schemas']['com.example.stable.v1.CronTab']['properties']['spec']['properties']['cronSpec']).toEqual({ type: 'string' })

    const made = await call(base, 'POST', crPath, { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'a' }, spec: { cronSpec: '* * * * */5', junk: 1 }, status: { ready: true } })
    expect(made.status).toBe(201)
    expect(made.body['spec']).toEqual({ cronSpec: '* * * * */5', replicas: 1 })

    const invalid = await call(base, 'POST', crPath, { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'b' }, spec: { replicas: 0 } })
    expect(invalid.status).toBe(422)
    expect(invalid.body['details']['causes'].map((c: Json) => c['field']).sort()).toEqual(['spec.cronSpec', 'spec.replicas'])
    expect(invalid.body['message']).toContain('CronTab "b" is invalid')

    const smp = await call(base, 'PATCH', `${crPath}/a`, { spec: { replicas: 2 } }, 'application/strategic-merge-patch+json')
    expect(smp.status).toBe(415)
    const merged = await call(base, 'PATCH', `${crPath}/a`, { spec: { replicas: 3 } }, 'application/merge-patch+json')
    expect(merged.body['spec']['replicas']).toBe(3)

    const table = await call(base, 'GET', crPath, undefined, 'application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io')
    expect(table.body['columnDefinitions'].map((c: Json) => c['name'])).toEqual(['Name', 'Spec', 'Replicas', 'Age'])
    expect(table.body['rows'][0]['cells'].slice(0, 3)).toEqual(['a', '* * * * */5', 3])

    expect((await call(base, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com')).status).toBe(200)
    await until(async () => (await call(base, 'GET', crPath)).status === 404)
    expect(store!.list('crontabs.stable.example.com').items).toEqual([])
    expect((await call(base, 'GET', '/apis')).body['groups'].map((g: Json) => g['name'])).not.toContain('stable.example.com')
  })

  it('serves cluster-scoped resources with status and scale subresources and strict field validation', async () => {
    const base = await start()
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.org' },
      spec: {
        group: 'example.org', scope: 'Cluster', names: { plural: 'widgets', kind: 'Widget' },
        versions: [{
          name: 'v1alpha1', served: true, storage: true,
          subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size', labelSelectorPath: '.status.selector' } },
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } }, status: { type: 'object', properties: { size: { type: 'integer' }, selector: { type: 'string' } } } } } },
        }],
      },
    }
    expect((await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201)
    const path = '/apis/example.org/v1alpha1/widgets'
    await until(async () => (await call(base, 'GET', path)).status === 200)

    const strict = await call(base, 'POST', `${path}?fieldValidation=Strict`, { metadata: { name: 'w' }, spec: { size: 1, colour: 'red' } })
    expect(strict.status).toBe(400)
    expect(strict.body['message']).toContain('unknown field "spec.colour"')

    const made = await call(base, 'POST', path, { metadata: { name: 'w' }, spec: { size: 1 }, status: { size: 9 } })
    expect(made.status).toBe(201)
    expect(made.body['status']).toBeUndefined()
    expect(made.body['metadata']['namespace']).toBeUndefined()

    const status = await call(base, 'PUT', `${path}/w/status`, { ...made.body, spec: { size: 5 }, status: { size: 1, selector: 'app=w' } })
    expect(status.status).toBe(200)
    expect(status.body['spec']).toEqual({ size: 1 })
    expect(status.body['status']).toEqual({ size: 1, selector: 'app=w' })

    const scale = await call(base, 'GET', `${path}/w/scale`)
    expect(scale.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { replicas: 1, selector: 'app=w' } })
    const scaled = await call(base, 'PATCH', `${path}/w/scale`, { spec: { replicas: 4 } }, 'application/merge-patch+json')
    expect(scaled.body['spec']).toEqual({ replicas: 4 })
    expect((await call(base, 'GET', `${path}/w`)).body['spec']).toEqual({ size: 4 })
  })

  it('deletes the custom resources in a namespace with it, and those owned by a deleted object', async () => {
    const base = await start()
    expect((await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crontabs)).status).toBe(201)
    await until(async () => (await call(base, 'GET', crPath)).status === 200)
    expect((await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'team' } })).status).toBe(201)
    const path = '/apis/stable.example.com/v1/namespaces/team/crontabs'
    expect((await call(base, 'POST', path, { metadata: { name: 'in-team' }, spec: { cronSpec: '* * * * *' } })).status).toBe(201)
    const owner = await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'owner' } })
    const ownerRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.body['metadata']['uid'] }
    expect((await call(base, 'POST', crPath, { metadata: { name: 'owned', ownerReferences: [ownerRef] }, spec: { cronSpec: '* * * * *' } })).status).toBe(201)

    expect((await call(base, 'DELETE', '/api/v1/namespaces/team')).status).toBe(200)
    await until(async () => (await call(base, 'GET', `${path}/in-team`)).status === 404)
    expect((await call(base, 'DELETE', '/api/v1/namespaces/default/configmaps/owner')).status).toBe(200)
    expect((await call(base, 'GET', `${crPath}/owned`)).status).toBe(404)
  })

  it('stores the storage version and answers each served version as addressed (conversion strategy None)', async () => {
    const base = await start()
    const crd = structuredClone(crontabs) as Json
    const v1 = crd['spec']['versions'][0]
    crd['spec']['versions'] = [{ ...structuredClone(v1), name: 'v1beta1', storage: false }, v1]
    expect((await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201)
    const beta = '/apis/stable.example.com/v1beta1/namespaces/default/crontabs'
    await until(async () => (await call(base, 'GET', beta)).status === 200 && (await call(base, 'GET', crPath)).status === 200)

    const made = await call(base, 'POST', beta, { apiVersion: 'stable.example.com/v1beta1', kind: 'CronTab', metadata: { name: 'a' }, spec: { cronSpec: '* * * * *' } })
    expect(made.body['apiVersion']).toBe('stable.example.com/v1beta1')
    expect(store!.list('crontabs.stable.example.com').items.map((o) => o.apiVersion)).toEqual(['stable.example.com/v1'])
    expect((await call(base, 'GET', `${beta}/a`)).body['apiVersion']).toBe('stable.example.com/v1beta1')
    expect((await call(base, 'GET', `${crPath}/a`)).body['apiVersion']).toBe('stable.example.com/v1')
    expect((await call(base, 'GET', beta)).body['items'].map((o: Json) => o['apiVersion'])).toEqual(['stable.example.com/v1beta1'])
    const patched = await call(base, 'PATCH', `${beta}/a`, { spec: { replicas: 2 } }, 'application/merge-patch+json')
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ apiVersion: 'stable.example.com/v1beta1', spec: { replicas: 2 } })
  })

  it('serves the stored CRDs again after a restart on the same store', async () => {
    const base = await start()
    expect((await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crontabs)).status).toBe(201)
    await until(async () => (await call(base, 'GET', crPath)).status === 200)
    expect((await call(base, 'POST', crPath, { metadata: { name: 'kept' }, spec: { cronSpec: '* * * * *' } })).status).toBe(201)
    await server!.close()
    server = await ApiServer.start({ store: store!, port: 0, admissionHooks: [] })
    expect((await call(server.url, 'GET', `${crPath}/kept`)).body['spec']).toEqual({ cronSpec: '* * * * *', replicas: 1 })
  })
})
