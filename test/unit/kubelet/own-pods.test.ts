/** A kubelet reads only its own node's pods (upstream: its watch has fieldSelector spec.nodeName=NODE). */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import type { Pod } from '../../../src/api/index.js'
import { Kubelet, PodNetworkTable, SeenSourceTable } from '../../../src/kubelet/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { FakeTimers } from './fake-timers.js'

const pod = (i: number): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'default' },
  spec: { nodeName: `node-${i % 1000}`, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
})

/** Built outside the test's frame, so no temporary of it is still alive when the heap is measured. */
function otherNodesPods(n: number): MemoryObjectSource<Pod> {
  const source = new MemoryObjectSource<Pod>()
  for (let i = 0; i < n; i++) source.upsert(pod(i))
  return source
}

describe('Kubelet pod cache', () => {
  it('keeps nothing for 20,000 pods bound to other nodes (it kept a cache entry for each)', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const pods = otherNodesPods(20_000)
    const timers = new FakeTimers()
    gc(); gc()
    const before = process.memoryUsage().heapUsed
    const kubelet = new Kubelet({
      node: { name: 'node-a', podCIDRs: ['10.244.0.0/24'], hostIP: '192.168.77.10' },
      pods, network: new PodNetworkTable(), seen: new SeenSourceTable(), timers, clock: { now: () => timers.now },
      prober: async () => true,
      status: { async writeStatus() {}, async finalizeDeletion() {} },
    })
    await kubelet.start()
    gc(); gc()
    const grown = process.memoryUsage().heapUsed - before
    expect(kubelet.runningPods()).toEqual([])
    expect(grown).toBeLessThan(400_000)
    await kubelet.stop()
  })
})
