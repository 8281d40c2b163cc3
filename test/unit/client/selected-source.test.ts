import { describe, expect, it } from 'vitest'
import { ListWatcher, MemoryObjectSource, selectedObjects } from '../../../src/client/index.js'
import { FakeTimers, flush } from '../kubelet/fake-timers.js'

interface Obj { metadata: { name: string; namespace: string }; node?: string }
const obj = (name: string, node?: string): Obj => ({ metadata: { name, namespace: 'default' }, ...(node ? { node } : {}) })

describe('selectedObjects', () => {
  it('lists and watches only the selected objects, and an object that stops matching is deleted', async () => {
    const source = new MemoryObjectSource<Obj>([obj('a', 'node-a'), obj('b', 'node-b'), obj('c')])
    const changes: string[] = []
    const lw = new ListWatcher(selectedObjects(source, (o) => o.node === 'node-a'), {
      change: (p, c) => changes.push(`${p?.metadata.name ?? '-'}>${c ? `${c.metadata.name}@${c.node ?? ''}` : '-'}`),
    }, { timers: new FakeTimers() })
    await lw.start()
    expect(lw.items().map((o) => o.metadata.name)).toEqual(['a'])
    source.upsert(obj('c', 'node-a'))
    source.upsert(obj('d', 'node-b'))
    source.upsert(obj('a', 'node-b'))
    source.delete('default/b')
    source.delete('default/c')
    await flush()
    expect(changes).toEqual(['->a@node-a', '->c@node-a', 'a>-', 'c>-'])
    expect(lw.items()).toEqual([])
    lw.stop()
  })

  it('passes watch errors on (a 410 still relists)', async () => {
    const source = new MemoryObjectSource<Obj>([obj('a', 'node-a')])
    const errors: unknown[] = []
    const stop = selectedObjects(source, () => true).watch('-1', { event: () => undefined, error: (e) => errors.push(e) })
    await flush()
    stop.stop()
    expect(errors).toHaveLength(1)
  })
})
