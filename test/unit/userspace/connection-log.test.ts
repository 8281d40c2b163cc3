/** The connection log formats records lazily: what is read back equals what eager formatting gave. */
import { describe, expect, it } from 'vitest'
import { ConnectionLog, type ConnectionRecord } from '../../../src/proxy/userspace/index.js'

const rec = (i: number): ConnectionRecord => ({ at: i, entry: 'nodeport', client: `c${i}`, destination: 'd', node: 'node-a', verdict: 'forward', path: [`nat/KUBE-SVC#${i}`] })

describe('ConnectionLog', () => {
  it('returns lazily made records equal to eager ones, newest last, bounded', () => {
    const lazy = new ConnectionLog(5)
    const eager = new ConnectionLog(5)
    let made = 0
    for (let i = 0; i < 8; i++) {
      lazy.add(() => (made++, rec(i)))
      eager.add(rec(i))
    }
    expect(made).toBe(0)
    expect(lazy.recent(3)).toEqual(eager.recent(3))
    expect(made).toBe(3)
    expect(lazy.recent()).toEqual(eager.recent())
    expect(lazy.recent()).toEqual(eager.recent())
    expect(made).toBe(5)
  })

  it('gives listeners formatted records at once', () => {
    const log = new ConnectionLog()
    const seen: ConnectionRecord[] = []
    log.onRecord((r) => seen.push(r))
    log.add(() => rec(1))
    expect(seen).toEqual([rec(1)])
  })
})
