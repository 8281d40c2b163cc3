/** The agents endpoint's node control: methods, unknown nodes, and stop/start reaching the node agents once each. */
import { describe, expect, it } from 'vitest'
import type { NodeAgents } from '../../../src/node/index.js'
import { nodeControl } from '../../../src/up/node-control.js'

/** The part of NodeAgents node control uses, recording the calls it gets. */
function agents(): { agents: NodeAgents; calls: string[] } {
  const stopped = new Set<string>()
  const calls: string[] = []
  const a = {
    kubelets: new Map([['node-a', {}], ['node-b', {}]]),
    stoppedNodes: () => [...stopped].sort(),
    stopNode: async (n: string) => { calls.push(`stop ${n}`); stopped.add(n) },
    startNode: async (n: string) => { calls.push(`start ${n}`); stopped.delete(n) },
  }
  return { agents: a as unknown as NodeAgents, calls }
}

describe('node control', () => {
  it('stops and starts a node, saying when it already was', async () => {
    const { agents: a, calls } = agents()
    expect(await nodeControl(a, 'POST', '/nodes/node-b/stop')).toMatchObject({ code: 200, body: expect.stringMatching(/^node node-b stopped/) })
    expect(await nodeControl(a, 'POST', '/nodes/node-b/stop')).toMatchObject({ code: 200, body: 'node node-b was already stopped\n' })
    expect(JSON.parse((await nodeControl(a, 'GET', '/nodes'))!.body)).toEqual([{ name: 'node-a', state: 'running' }, { name: 'node-b', state: 'stopped' }])
    expect(await nodeControl(a, 'POST', '/nodes/node-b/start')).toMatchObject({ code: 200, body: expect.stringMatching(/^node node-b started/) })
    expect(await nodeControl(a, 'POST', '/nodes/node-a/start')).toMatchObject({ code: 200, body: 'node node-a was already running\n' })
    expect(calls).toEqual(['stop node-b', 'stop node-b', 'start node-b', 'start node-a'])
  })

  it('answers 404 naming the nodes for an unknown node, 405 for other methods, and leaves other paths alone', async () => {
    const { agents: a, calls } = agents()
    expect(await nodeControl(a, 'POST', '/nodes/node-x/stop')).toEqual({ code: 404, type: 'text/plain', body: 'no such node "node-x"; nodes: node-a, node-b\n' })
    expect((await nodeControl(a, 'GET', '/nodes/node-a/stop'))?.code).toBe(405)
    expect((await nodeControl(a, 'POST', '/nodes'))?.code).toBe(405)
    expect(await nodeControl(a, 'POST', '/nodes/node-a/reboot')).toBeUndefined()
    expect(await nodeControl(a, 'GET', '/metrics')).toBeUndefined()
    expect(calls).toEqual([])
  })

  it('runs a stop and a start sent together one after the other: the node ends running, with a live kubelet', async () => {
    // The order of NodeAgents' own steps: a stop marks the node, then awaits the old kubelet's end;
    // a start registers a new kubelet at once. Overlapping, the stop would end the new one.
    const stopped = new Set<string>()
    const kubelets = new Map<string, { live: boolean }>([['node-a', { live: true }]])
    const a = {
      kubelets,
      stoppedNodes: () => [...stopped].sort(),
      stopNode: async (n: string) => {
        if (stopped.has(n)) return
        stopped.add(n)
        await new Promise((r) => setTimeout(r, 20))
        kubelets.get(n)!.live = false
      },
      startNode: async (n: string) => {
        if (!stopped.has(n)) return
        kubelets.set(n, { live: true })
        stopped.delete(n)
      },
    } as unknown as NodeAgents
    const answers = await Promise.all([nodeControl(a, 'POST', '/nodes/node-a/stop'), nodeControl(a, 'POST', '/nodes/node-a/start')])
    expect(answers.map((x) => x?.body)).toEqual([expect.stringMatching(/^node node-a stopped/), expect.stringMatching(/^node node-a started/)])
    expect(stopped.has('node-a')).toBe(false)
    expect(kubelets.get('node-a')!.live).toBe(true)
  })
})
