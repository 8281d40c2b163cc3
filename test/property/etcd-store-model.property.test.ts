/**
 * The etcd store against the embedded store as a model: random sequences of creates, updates and
 * deletes (with and without preconditions, single and in transactions, some concurrent) give the
 * same outcomes (success or the same StoreError reason) and the same objects in both, and the
 * etcd store's resourceVersions only grow. Seeded and bounded in time.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdStore, isStoreError, openMemoryStore, type KubeObject, type ObjectStore, type WriteOp } from '../../src/store/index.js'
import { requireEtcd, startEtcd, type EtcdCluster } from '../helpers/etcd-process.js'

type Step =
  | { readonly kind: 'create' | 'update' | 'delete'; readonly name: string; readonly value: string; readonly precondition: 'none' | 'current' | 'stale' | 'uid' }
  | { readonly kind: 'txn'; readonly ops: readonly { readonly kind: 'create' | 'update' | 'delete'; readonly name: string; readonly value: string }[] }
  | { readonly kind: 'parallel'; readonly names: readonly string[] }

const name = fc.constantFrom('a', 'b', 'c', 'd')
const single = fc.record({ kind: fc.constantFrom('create' as const, 'update' as const, 'delete' as const), name, value: fc.string({ maxLength: 6 }), precondition: fc.constantFrom('none' as const, 'current' as const, 'stale' as const, 'uid' as const) })
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: single },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('txn' as const), ops: fc.array(fc.record({ kind: fc.constantFrom('create' as const, 'update' as const, 'delete' as const), name, value: fc.string({ maxLength: 6 }) }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('parallel' as const), names: fc.uniqueArray(name, { minLength: 2, maxLength: 4 }) }) },
)

const cm = (n: string, value: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, namespace: 'default', uid: `uid-${n}` }, data: { v: value } })
const key = (n: string) => ({ resource: 'configmaps', namespace: 'default', name: n })

function op(store: ObjectStore, kind: 'create' | 'update' | 'delete', n: string, value: string): WriteOp {
  if (kind === 'create') return { type: 'create', resource: 'configmaps', object: cm(n, value) }
  if (kind === 'update') return { type: 'update', resource: 'configmaps', object: { ...(store.get(key(n)) ?? cm(n, '')), data: { v: value } } }
  return { type: 'delete', key: key(n) }
}

async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run()
    return 'ok'
  } catch (e) {
    if (isStoreError(e)) return e.reason
    throw e
  }
}

async function apply(store: ObjectStore, s: Step): Promise<string> {
  if (s.kind === 'txn') return outcome(() => store.transact(s.ops.map((o) => op(store, o.kind, o.name, o.value))))
  if (s.kind === 'parallel') return (await Promise.all(s.names.map((n) => outcome(() => store.create('configmaps', cm(n, 'p')))))).join(',')
  const current = store.get(key(s.name))
  const pre = s.precondition === 'current' ? { resourceVersion: current?.metadata.resourceVersion ?? '1' }
    : s.precondition === 'stale' ? { resourceVersion: String(Number(current?.metadata.resourceVersion ?? '1') - 1) } : s.precondition === 'uid' ? { uid: 'uid-other' } : undefined
  const o = op(store, s.kind, s.name, s.value)
  if (o.type === 'create') return outcome(() => store.create('configmaps', o.object))
  if (o.type === 'update') return outcome(() => store.update('configmaps', o.object, pre))
  return outcome(() => store.delete(o.key, pre))
}

const state = (store: ObjectStore): string[] => store.list('configmaps').items.map((o) => `${o.metadata.name}=${JSON.stringify(o['data'])}`)

if (requireEtcd('etcd store model test')) {
  describe('EtcdStore behaves as the embedded store', () => {
    let etcd: EtcdCluster
    let run = 0
    beforeAll(async () => { etcd = await startEtcd(1) }, 30_000)
    afterAll(async () => { await etcd?.stop() })

    it('same outcomes and objects for any sequence of writes', async () => {
      await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const model = await openMemoryStore()
        const real = await EtcdStore.open({ endpoints: [etcd.endpoints], prefix: `/model-${run++}`, compactionIntervalMs: 0 })
        try {
          let lastRv = real.resourceVersion
          for (const s of steps) {
            const [want, got] = [await apply(model, s), await apply(real, s)]
            expect(got, JSON.stringify(s)).toBe(want)
            expect(state(real)).toEqual(state(model))
            expect(real.resourceVersion).toBeGreaterThanOrEqual(lastRv)
            lastRv = real.resourceVersion
          }
        } finally {
          await model.close()
          await real.close()
        }
      }), { seed: 1717, numRuns: 60, interruptAfterTimeLimit: 20_000 })
    }, 60_000)
  })
}
