import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyStrategicMergePatch, fieldPathsOf, fieldsV1Of, formatFieldPath, planApply, type JsonObject } from '../../../src/apiserver/patch/index.js'
import { fieldsV1FromPaths, pathKey, removeFieldPaths, valueAt } from '../../../src/apiserver/patch/field-set.js'
import { apiServerPerTest } from '../../helpers/api-server.js'

const api = apiServerPerTest()
const start = (): Promise<string> => api.start()

interface Deployment { metadata: { labels?: Record<string, string>; managedFields: { manager: string; operation: string; fieldsV1: Record<string, unknown> }[] }; spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } } }

async function call(url: string, method: string, body: unknown, contentType: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method, headers: { 'Content-Type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

function deployment(replicas: number, opts: { labels?: Record<string, string>; containers?: string[] } = {}): unknown {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: {
      replicas, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: (opts.containers ?? ['web']).map((name) => ({ name, image: `${name}:1` })) } },
    },
  }
}

const url = (base: string, manager: string, force = false): string =>
  `${base}/apis/apps/v1/namespaces/default/deployments/web?fieldManager=${manager}${force ? '&force=true' : ''}`
const apply = (base: string, manager: string, body: unknown, force = false) => call(url(base, manager, force), 'PATCH', body, 'application/apply-patch+yaml')

describe('server-side apply ownership', () => {
  it('answers 409 when a manager changes a field another applier owns, naming the manager and the field', async () => {
    const base = await start()
    expect((await apply(base, 'alice', deployment(2))).status).toBe(201)
    const r = await apply(base, 'bob', deployment(3))
    expect(r).toEqual({ status: 409, json: {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Conflict', code: 409,
      message: 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.replicas' }] },
    } })
  })

  it('names an Update manager with its apiVersion, as kubectl client-side apply leaves it', async () => {
    const base = await start()
    const create = await call(`${base}/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-client-side-apply`, 'POST', deployment(2), 'application/json')
    expect(create.status).toBe(201)
    const r = await apply(base, 'kubectl', deployment(5, { containers: ['web', 'side'] }))
    expect(r.status).toBe(409)
    expect(r.json['message']).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas')
    const two = await apply(base, 'kubectl', { ...(deployment(5) as object), metadata: { name: 'web', labels: { tier: 'x' } }, spec: { ...(deployment(5) as { spec: object }).spec, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:2' }] } } } })
    expect(two.json['message']).toBe('Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image')
    expect((two.json['details'] as { causes: { field: string }[] }).causes.map((c) => c.field)).toEqual(['.spec.replicas', '.spec.template.spec.containers[name="web"].image'])
  })

  it('shares a field applied with the same value, and force=true takes it from its owner', async () => {
    const base = await start()
    await apply(base, 'alice', deployment(2))
    expect((await apply(base, 'bob', deployment(2))).status).toBe(200)
    const forced = await apply(base, 'bob', deployment(3), true)
    expect(forced.status).toBe(200)
    const d = forced.json as unknown as Deployment
    expect(d.spec.replicas).toBe(3)
    const alice = d.metadata.managedFields.find((e) => e.manager === 'alice')
    expect(fieldPathsOf(alice?.fieldsV1).map(formatFieldPath)).not.toContain('.spec.replicas')
    expect(fieldPathsOf(d.metadata.managedFields.find((e) => e.manager === 'bob')?.fieldsV1).map(formatFieldPath)).toContain('.spec.replicas')
    // alice no longer owns replicas: applying her old value now conflicts with bob.
    expect((await apply(base, 'alice', deployment(2))).json['message']).toBe('Apply failed with 1 conflict: conflict with "bob": .spec.replicas')
  })

  it('removes the fields an applier stops applying, unless another manager owns them', async () => {
    const base = await start()
    await apply(base, 'alice', deployment(2, { labels: { a: '1', b: '2' }, containers: ['web', 'side'] }))
    await apply(base, 'bob', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { b: '2' } } })
    const r = await apply(base, 'alice', deployment(2))
    expect(r.status, JSON.stringify(r.json)).toBe(200)
    const d = r.json as unknown as Deployment
    expect(d.metadata.labels).toEqual({ b: '2' })
    expect(d.spec.template.spec.containers.map((c) => c.name)).toEqual(['web'])
    expect(d.spec.replicas).toBe(2)
  })
})

describe('PatchOptions', () => {
  it('are checked as ValidatePatchOptions checks them: force only with apply, fieldManager required for apply', async () => {
    const base = await start()
    await apply(base, 'alice', deployment(2))
    const forced = await call(`${base}/apis/apps/v1/namespaces/default/deployments/web?force=true`, 'PATCH', { spec: { replicas: 3 } }, 'application/merge-patch+json')
    expect(forced).toMatchObject({ status: 422, json: {
      reason: 'Invalid', message: 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
      details: { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueForbidden', field: 'force' }] },
    } })
    const anonymous = await call(`${base}/apis/apps/v1/namespaces/default/deployments/web`, 'PATCH', deployment(2), 'application/apply-patch+yaml')
    expect(anonymous).toMatchObject({ status: 422, json: { message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch' } })
    expect((await apply(base, 'x'.repeat(129), deployment(2))).status).toBe(422)
  })
})

describe('Update ownership', () => {
  it('an update owns only what it changed, and takes it from the applier', async () => {
    const base = await start()
    const created = await apply(base, 'alice', deployment(2))
    // A controller writing the whole object back (as kpe's own do) changes nothing alice applied.
    const put = await call(url(base, 'ctrl'), 'PUT', { ...created.json, metadata: { ...(created.json['metadata'] as object), annotations: { note: 'x' } } }, 'application/json')
    expect(put.status).toBe(200)
    const ctrl = (put.json as unknown as Deployment).metadata.managedFields.find((e) => e.manager === 'ctrl')
    expect(fieldPathsOf(ctrl?.fieldsV1).map(formatFieldPath)).toEqual(['.metadata.annotations.note'])
    expect((await apply(base, 'alice', deployment(4))).status).toBe(200)
    // A merge patch that changes replicas takes them over.
    expect((await call(url(base, 'kubectl-edit'), 'PATCH', { spec: { replicas: 5 } }, 'application/merge-patch+json')).status).toBe(200)
    expect((await apply(base, 'alice', deployment(2))).json['message']).toBe('Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas')
  })

  it('a change through the scale subresource is recorded with subresource scale, as kubectl scale leaves it', async () => {
    const base = await start()
    await apply(base, 'alice', deployment(2))
    const scaled = await call(`${base}/apis/apps/v1/namespaces/default/deployments/web/scale?fieldManager=kubectl-scale`, 'PATCH', { spec: { replicas: 4 } }, 'application/merge-patch+json')
    expect(scaled.status).toBe(200)
    expect((await apply(base, 'alice', deployment(2))).json['message'])
      .toBe('Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource "scale" using apps/v1: .spec.replicas')
  })
})

describe('field paths', () => {
  it('print as structured-merge-diff prints them', () => {
    const set = fieldsV1Of('Deployment', { spec: { template: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 80 }] }] } } } })
    expect(fieldPathsOf(set).map(formatFieldPath)).toEqual([
      '.spec.template.spec.containers[name="web"]',
      '.spec.template.spec.containers[name="web"].name',
      '.spec.template.spec.containers[name="web"].ports[containerPort=80]',
      '.spec.template.spec.containers[name="web"].ports[containerPort=80].containerPort',
    ])
  })
})

describe('field sets, for any object', () => {
  const name = fc.constantFrom('a', 'b', 'name', 'image', 'x')
  const leaf = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.boolean())
  const container = fc.record({ name: fc.constantFrom('web', 'side', 'db'), image: fc.string({ maxLength: 3 }), env: fc.array(fc.record({ name, value: leaf }), { maxLength: 2 }) })
  const obj = fc.record({
    metadata: fc.record({ labels: fc.dictionary(name, fc.string({ maxLength: 3 }), { maxKeys: 3 }) }),
    spec: fc.record({ replicas: fc.integer(), template: fc.record({ spec: fc.record({ containers: fc.uniqueArray(container, { selector: (c) => c.name, maxLength: 3 }) }) }) }),
  })

  it('every path names a value in the object it came from, the set survives a rebuild, and removing all leaves nothing owned', () => {
    fc.assert(fc.property(obj, (o) => {
      const paths = fieldPathsOf(fieldsV1Of('Deployment', o as unknown as JsonObject))
      for (const p of paths) expect(valueAt(o, p), formatFieldPath(p)).not.toBeUndefined()
      expect(fieldPathsOf(fieldsV1FromPaths(paths)).map(pathKey).sort()).toEqual(paths.map(pathKey).sort())
      const copy = structuredClone(o) as unknown as JsonObject
      removeFieldPaths(copy, paths)
      for (const p of paths) expect(valueAt(copy, p), formatFieldPath(p)).toBeUndefined()
    }), { seed: 7, numRuns: 200 })
  })
})

describe('planApply, for any two applied configurations', () => {
  const label = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('1', '2'), { maxKeys: 3 })
  const container = fc.record({ name: fc.constantFrom('web', 'side'), image: fc.constantFrom('x:1', 'x:2') })
  const config = fc.record({
    metadata: fc.record({ labels: label }),
    spec: fc.record({ replicas: fc.integer({ min: 0, max: 3 }), template: fc.record({ spec: fc.record({ containers: fc.uniqueArray(container, { selector: (c) => c.name, minLength: 1, maxLength: 2 }) }) }) }, { requiredKeys: [] }),
  }) as fc.Arbitrary<JsonObject>
  const applyAs = (live: JsonObject, manager: string, cfg: JsonObject, force: boolean) => {
    const merged = applyStrategicMergePatch('Deployment', structuredClone(live), cfg, { nullDeletes: false }) as JsonObject
    const plan = planApply(live, merged, manager, fieldsV1Of('Deployment', cfg), force)
    const entry = { manager, operation: 'Apply' as const, apiVersion: 'apps/v1', time: '', fieldsType: 'FieldsV1' as const, fieldsV1: fieldsV1Of('Deployment', cfg) }
    const object = { ...plan.object, metadata: { ...(plan.object['metadata'] as JsonObject), managedFields: [...plan.managedFields, entry] } } as JsonObject
    return { object, conflicts: plan.conflicts }
  }

  it('a forced apply leaves every applied leaf at its applied value; re-applying the same config changes nothing', () => {
    fc.assert(fc.property(config, config, (a, b) => {
      const first = applyAs({ metadata: { name: 'web', managedFields: [] } }, 'alice', a, false).object
      expect(applyAs(first, 'alice', a, false)).toEqual({ object: first, conflicts: [] })
      const second = applyAs(first, 'bob', b, true)
      expect(second.conflicts).toEqual([])
      const paths = fieldPathsOf(fieldsV1Of('Deployment', b))
      // Scalar leaves: an empty map or list applied is owned, not emptied.
      for (const p of paths.filter((q) => { const v = valueAt(b, q); return typeof v !== 'object' || v === null })) {
        expect(valueAt(second.object, p), formatFieldPath(p)).toEqual(valueAt(b, p))
      }
      // Without force, bob conflicts exactly when he changes a leaf alice owns.
      const alicePaths = new Set(fieldPathsOf(fieldsV1Of('Deployment', a)).map((p) => formatFieldPath(p)))
      const expected = paths.filter((p) => {
        const v = valueAt(b, p)
        return alicePaths.has(formatFieldPath(p)) && (typeof v !== 'object' || v === null) && v !== valueAt(a, p)
      }).map(formatFieldPath)
      const unforced = applyAs(first, 'bob', b, false)
      expect(unforced.conflicts.map((c) => formatFieldPath(c.path))).toEqual(expected)
      for (const c of unforced.conflicts) expect(c.owner.manager).toBe('alice')
    }), { seed: 21, numRuns: 300 })
  })
})
