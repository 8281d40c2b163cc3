import { describe, expect, it } from 'vitest'
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from '../../../src/apiserver/index.js'

const deployment = {
  metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a'] },
  spec: {
    template: {
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }] },
          { name: 'side', image: 'envoy' },
        ],
        tolerations: [{ key: 'x' }],
      },
    },
  },
}

describe('strategic merge patch', () => {
  it('merges containers by name and keeps fields the patch does not mention', () => {
    const out = applyStrategicMergePatch('Deployment', deployment, {
      spec: { template: { spec: { $setElementOrder$: undefined, containers: [{ name: 'web', image: 'nginx:1.28' }] } } },
    }) as typeof deployment
    expect(out.spec.template.spec.containers).toEqual([
      { name: 'web', image: 'nginx:1.28', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }] },
      { name: 'side', image: 'envoy' },
    ])
  })

  it.each([
    ['$patch: delete removes a list element by merge key',
      { spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } } },
      (o: typeof deployment) => expect(o.spec.template.spec.containers.map((c) => c.name)).toEqual(['web'])],
    ['$setElementOrder reorders merged lists',
      { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'web' }], containers: [{ name: 'web', image: 'x' }] } } } },
      (o: typeof deployment) => expect(o.spec.template.spec.containers.map((c) => c.name)).toEqual(['side', 'web'])],
    ['lists without a merge key are replaced whole',
      { spec: { template: { spec: { tolerations: [{ key: 'y' }] } } } },
      (o: typeof deployment) => expect(o.spec.template.spec.tolerations).toEqual([{ key: 'y' }])],
    ['null deletes a map key',
      { metadata: { labels: { app: null, tier: 'fe' } } },
      (o: typeof deployment) => expect(o.metadata.labels).toEqual({ tier: 'fe' })],
    ['container ports merge by containerPort and env by name',
      { spec: { template: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 81 }], env: [{ name: 'A', value: '2' }] }] } } } },
      (o: typeof deployment) => {
        expect(o.spec.template.spec.containers[0]?.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }, { containerPort: 81 }])
        expect(o.spec.template.spec.containers[0]?.env).toEqual([{ name: 'A', value: '2' }])
      }],
    ['finalizers merge as a set and $deleteFromPrimitiveList removes values',
      { metadata: { finalizers: ['b'], '$deleteFromPrimitiveList/finalizers': ['a'] } },
      (o: typeof deployment) => expect(o.metadata.finalizers).toEqual(['b'])],
    ['$patch: replace on a map replaces it',
      { spec: { template: { spec: { $patch: 'replace', containers: [{ name: 'only', image: 'i' }] } } } },
      (o: typeof deployment) => expect(o.spec.template.spec).toEqual({ containers: [{ name: 'only', image: 'i' }] })],
    ['$retainKeys drops keys not listed',
      { spec: { template: { $retainKeys: ['spec'] } }, metadata: {} },
      (o: typeof deployment) => expect(Object.keys(o.spec.template)).toEqual(['spec'])],
  ])('%s', (_name, patch, check) => {
    check(applyStrategicMergePatch('Deployment', deployment, patch) as typeof deployment)
  })

  it('merges Service ports by port, and not EndpointSlice ports', () => {
    const svc = { spec: { ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }] } }
    expect(applyStrategicMergePatch('Service', svc, { spec: { ports: [{ port: 80, targetPort: 8080 }] } }))
      .toEqual({ spec: { ports: [{ port: 80, name: 'http', targetPort: 8080 }, { port: 443, name: 'https' }] } })
    const slice = { ports: [{ port: 80 }, { port: 443 }] }
    expect(applyStrategicMergePatch('EndpointSlice', slice, { ports: [{ port: 8080 }] })).toEqual({ ports: [{ port: 8080 }] })
  })

  it('does not mutate its inputs', () => {
    const before = JSON.stringify(deployment)
    applyStrategicMergePatch('Deployment', deployment, { metadata: { labels: { app: null } } })
    expect(JSON.stringify(deployment)).toBe(before)
  })
})

describe('merge patch and JSON patch', () => {
  it('merge patch replaces arrays and deletes on null', () => {
    expect(applyMergePatch({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: null })).toEqual({ a: { b: 1, c: [3] } })
  })

  it('JSON patch applies add, replace, remove, move, copy and test', () => {
    const doc = { metadata: { labels: { a: '1' } }, list: [1, 2] }
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/metadata/labels/b', value: '2' },
      { op: 'replace', path: '/metadata/labels/a', value: 'x' },
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'remove', path: '/list/0' },
      { op: 'copy', from: '/metadata/labels/b', path: '/metadata/labels/c' },
      { op: 'move', from: '/metadata/labels/c', path: '/moved' },
      { op: 'test', path: '/moved', value: '2' },
    ])
    expect(out).toEqual({ metadata: { labels: { a: 'x', b: '2' } }, list: [2, 3], moved: '2' })
    expect(doc.list).toEqual([1, 2])
  })

  it('JSON patch fails on a failed test or missing path', () => {
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(PatchError)
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }])).toThrow(/nonexistent/)
  })
})
