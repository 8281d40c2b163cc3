import { describe, expect, it } from 'vitest'
import { planTxn, type Current, type KubeObject, type ObjectKey } from '../../../src/store/index.js'

const cm = (name: string, rv?: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid: `u-${name}`, ...(rv ? { resourceVersion: rv } : {}) } })
const state = (entries: Record<string, number>) => (key: ObjectKey): Current => {
  const mod = entries[key.name]
  return mod === undefined ? { object: undefined, modRevision: 0 } : { object: cm(key.name, String(mod)), modRevision: mod }
}

describe('planTxn', () => {
  it('compares each key on the mod revision it was checked against (0: must not exist) and writes each key once', () => {
    const plan = planTxn('/registry', [
      { type: 'create', resource: 'configmaps', object: cm('new') },
      { type: 'update', resource: 'configmaps', object: cm('old'), preconditions: { resourceVersion: '7' } },
      { type: 'delete', key: { resource: 'configmaps', namespace: 'default', name: 'old' } },
    ], state({ old: 7 }))
    expect(plan.compares).toEqual([
      { etcdKey: '/registry/configmaps/default/new', modRevision: 0 },
      { etcdKey: '/registry/configmaps/default/old', modRevision: 7 },
    ])
    expect(plan.writes.map((w) => `${w.type} ${w.etcdKey}`)).toEqual(['put /registry/configmaps/default/new', 'delete /registry/configmaps/default/old'])
    expect(plan.events(12).map((e) => `${e.type} ${e.object.metadata.name} ${e.object.metadata.resourceVersion}`))
      .toEqual(['ADDED new 12', 'MODIFIED old 12', 'DELETED old 12'])
  })

  it('refuses before etcd is asked: AlreadyExists, NotFound, stale preconditions', () => {
    const s = state({ a: 3 })
    expect(() => planTxn('/r', [{ type: 'create', resource: 'configmaps', object: cm('a') }], s)).toThrow(expect.objectContaining({ reason: 'AlreadyExists' }))
    expect(() => planTxn('/r', [{ type: 'update', resource: 'configmaps', object: cm('b') }], s)).toThrow(expect.objectContaining({ reason: 'NotFound' }))
    expect(() => planTxn('/r', [{ type: 'delete', key: { resource: 'configmaps', namespace: 'default', name: 'a' }, preconditions: { uid: 'x' } }], s))
      .toThrow(expect.objectContaining({ reason: 'Conflict' }))
    expect(() => planTxn('/r', [{ type: 'update', resource: 'configmaps', object: cm('a'), preconditions: { resourceVersion: '2' } }], s))
      .toThrow(expect.objectContaining({ reason: 'Conflict' }))
  })
})
