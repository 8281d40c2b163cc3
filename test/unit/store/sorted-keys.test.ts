/** The store's list order: kept as keys come and go, equal to sorting every time (property). */
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { SortedKeys } from '../../../src/store/sorted-keys.js'
import { VersionedStore } from '../../../src/store/index.js'

describe('SortedKeys', () => {
  it('agrees with a sort of the live keys after any adds and deletes, and a prefix is the namespace\'s run (property)', () => {
    const key = fc.tuple(fc.constantFrom('', 'a', 'a-b', 'ab', 'kube-system'), fc.stringMatching(/^[a-z0-9.-]{1,6}$/)).map(([ns, n]) => `${ns}/${n}`)
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), key), { maxLength: 200 }), fc.constantFrom('', 'a', 'a-b', 'kube-system'), (ops, ns) => {
      const keys = new SortedKeys()
      const live = new Set<string>()
      for (const [add, k] of ops) {
        if (add) { keys.add(k); live.add(k) } else { keys.delete(k); live.delete(k) }
      }
      const want = [...live].sort()
      expect([...keys.keys()]).toEqual(want)
      expect(keys.size).toBe(live.size)
      expect([...keys.keys(`${ns}/`)]).toEqual(want.filter((k) => k.startsWith(`${ns}/`)))
    }), { seed: 11, numRuns: 300 })
  })

  it('lists a big resource in order without sorting on the call: 20,000 objects', async () => {
    const store = await VersionedStore.open()
    for (let i = 0; i < 20_000; i++) await store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${(i * 7919) % 20_000}`, namespace: i % 2 ? 'a' : 'b' } })
    // what a list costs is decided by its shape, not a clock: no sort runs when one is asked
    const sort = vi.spyOn(Array.prototype, 'sort')
    try {
      expect(store.list('configmaps').items).toHaveLength(20_000)
      expect(sort).not.toHaveBeenCalled()
    } finally {
      sort.mockRestore()
    }
    const names = store.list('configmaps', { namespace: 'a' }).items.map((o) => o.metadata.name)
    expect(names).toHaveLength(10_000)
    expect(names).toEqual([...names].sort())
    await store.close()
  })
})
