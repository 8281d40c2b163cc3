/** The pod table's STATUS and RESTARTS after restarts, as kubectl's printer shows them upstream. */
import { describe, expect, it } from 'vitest'
import { buildTable, findResource } from '../../../src/apiserver/index.js'

const pods = findResource('', 'v1', 'pods')!

describe('pod table', () => {
  it('shows the waiting reason and "N (AGE ago)" from the latest lastState.terminated.finishedAt', () => {
    const now = Date.parse('2026-01-01T00:10:00Z')
    const pod = {
      metadata: { name: 'crash', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: {
        phase: 'Running',
        containerStatuses: [
          { name: 'a', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 137, finishedAt: '2026-01-01T00:09:15Z' } } },
          { name: 'b', ready: true, restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 0, finishedAt: '2026-01-01T00:02:00Z' } } },
        ],
      },
    }
    const t = buildTable(pods, [pod], { now, includeObject: 'None' }) as { rows: { cells: unknown[] }[] }
    expect(t.rows[0]?.cells.slice(0, 5)).toEqual(['crash', '1/2', 'CrashLoopBackOff', '4 (45s ago)', '10m'])
    const fresh = buildTable(pods, [{ ...pod, status: { phase: 'Running', containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: {} }, lastState: {} }] } }], { now, includeObject: 'None' }) as { rows: { cells: unknown[] }[] }
    expect(fresh.rows[0]?.cells[3]).toBe('0')
  })
})
