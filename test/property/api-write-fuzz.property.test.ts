import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { validateStoredObject } from '../../src/api/index.js'
import { apiVersionOf, servedResources, storageResource, type ResourceInfo } from '../../src/apiserver/index.js'
import { apiServerPerFile } from '../helpers/api-server.js'
import { mutate, mutationArb, samples } from '../helpers/sample-objects.js'

const api = apiServerPerFile()

function collectionUrl(r: ResourceInfo): string {
  const prefix = r.group === '' ? '/api/v1' : `/apis/${apiVersionOf(r)}`
  return `${api.url}${prefix}${r.namespaced ? '/namespaces/default' : ''}/${r.resource}`
}

// one version per stored resource: autoscaling/v1 and v2 HPAs are the same objects
const writable = servedResources.filter((r, i, all) => r.verbs.includes('create') && Object.hasOwn(samples, r.kind) &&
  all.findIndex((o) => storageResource(o) === storageResource(r)) === i)

describe('mutated objects of every served kind never get a 5xx, and what is stored validates (issue 10)', () => {
  it.each(writable.map((r) => [r.kind, r] as const))('%s', async (kind, r) => {
    let n = 0
    const seed = { apiVersion: apiVersionOf(r), kind, ...samples[kind]!, metadata: { ...(samples[kind]!['metadata'] as object), name: 'seed' } }
    const created = await fetch(collectionUrl(r), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(seed) })
    expect(created.status, await created.text()).toBe(201)
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.constantFrom('POST', 'PUT', 'PATCH'), async (mutations, method) => {
        const body = mutations.reduce(mutate, { apiVersion: apiVersionOf(r), kind, ...samples[kind]! })
        const name = `f${n++}`
        const meta = body['metadata']
        if (typeof meta === 'object' && meta !== null && !Array.isArray(meta)) (meta as Record<string, unknown>)['name'] = name
        const url = method === 'POST' ? collectionUrl(r) : `${collectionUrl(r)}/seed`
        const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
        const res = await fetch(url, { method, headers: { 'Content-Type': type }, body: JSON.stringify(method === 'POST' ? body : { ...body, metadata: { ...(body['metadata'] as object), name: 'seed' } }) })
        const text = await res.text()
        expect(res.status, `${method} ${kind}: ${text.slice(0, 300)}`).toBeLessThan(500)
      }),
      { seed: 1206, numRuns: Number(process.env['KPE_FUZZ_RUNS'] ?? 150), interruptAfterTimeLimit: 15_000 },
    )
    const stored = api.store.list(storageResource(r)).items
    for (const o of stored) expect(validateStoredObject(storageResource(r), o), JSON.stringify(o).slice(0, 300)).toEqual([])
    const table = await fetch(collectionUrl(r), { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } })
    expect(table.status).toBe(200)
  })
})
