/**
 * ListWatcher's boundaries: a watch that cannot be started during a relist (which runs from a
 * watch error or a timer, where a rejection would end the process) is reported and retried.
 */
import { describe, expect, it } from 'vitest'
import { ListWatcher, WatchExpiredError, type ObjectSource } from '../../../src/client/index.js'
import { realTimers } from '../../../src/runtime/index.js'

interface Obj { readonly metadata: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string } }

describe('ListWatcher relist', () => {
  it('reports a watch that throws when it is restarted after a 410, and retries it', async () => {
    let watches = 0
    const source: ObjectSource<Obj> = {
      list: () => Promise.resolve({ items: [{ metadata: { name: 'a', namespace: 'default', resourceVersion: '1' } }], resourceVersion: '1' }),
      watch: (_rv, handlers) => {
        watches++
        if (watches === 1) queueMicrotask(() => handlers.error(new WatchExpiredError('1')))
        if (watches === 2) throw new Error('watch could not start')
        return { stop: () => undefined }
      },
    }
    const errors: string[] = []
    const w = new ListWatcher(source, { change: () => undefined, error: (e) => errors.push((e as Error).message) }, { timers: realTimers, retryMs: 10 })
    await w.start()
    const deadline = Date.now() + 2000
    while (watches < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    w.stop()
    expect(errors).toEqual(['watch could not start'])
    expect(watches).toBe(3)
  })
})
