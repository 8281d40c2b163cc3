/** The kubelet's pod sandbox seam: set up with the pod IP before any container serves, torn down after the last stopped. */
import { describe, expect, it } from 'vitest'
import type { Pod } from '../../../src/api/index.js'
import { Kubelet, PodNetworkTable, SeenSourceTable, type PodIdentity, type PodSandboxes } from '../../../src/kubelet/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import type { EventRecorder } from '../../../src/controllers/index.js'
import { FakeTimers, flush } from './fake-timers.js'

const pod: Pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', uid: 'u1' },
  spec: { nodeName: 'node-a', containers: [{ name: 'a', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080 }] }] },
}

function kubeletWith(sandboxes: PodSandboxes, pods: MemoryObjectSource<Pod>, network: PodNetworkTable, events: string[]): Kubelet {
  const timers = new FakeTimers()
  const recorder: EventRecorder = { recordEvent: (_ref, reason, note) => void events.push(`${reason}: ${note}`) } as EventRecorder
  return new Kubelet({
    node: { name: 'node-a', podCIDRs: ['10.244.0.0/24'] }, pods, network, seen: new SeenSourceTable(), timers, clock: { now: () => timers.now },
    prober: async () => true, events: recorder, sandboxes,
    status: { async writeStatus() {}, async finalizeDeletion() {} },
  })
}

describe('kubelet pod sandboxes', () => {
  it('sets the sandbox up with the pod IP before the containers register, and tears it down after they stopped', async () => {
    const network = new PodNetworkTable()
    const order: string[] = []
    network.onChange(() => order.push(`network ${network.entries().length}`))
    const sandboxes: PodSandboxes = {
      async setUp(p: PodIdentity) { order.push(`setUp ${p.namespace}/${p.name} ${p.podIP} ${p.node}`) },
      async tearDown(p: PodIdentity) { order.push(`tearDown ${p.namespace}/${p.name} ${p.podIP}`) },
    }
    const pods = new MemoryObjectSource<Pod>([pod])
    const kubelet = kubeletWith(sandboxes, pods, network, [])
    await kubelet.start()
    await kubelet.idle()
    expect(order.slice(0, 2)).toEqual(['setUp default/web-1 10.244.0.2 node-a', 'network 1'])
    pods.delete('default/web-1')
    await flush()
    await kubelet.idle()
    expect(order.at(-1)).toBe('tearDown default/web-1 10.244.0.2')
    expect(order.filter((o) => o.startsWith('tearDown'))).toHaveLength(1)
    await kubelet.stop()
  })

  it('a failed setUp is a FailedCreatePodSandBox event; the pod still runs and its teardown still asks', async () => {
    const network = new PodNetworkTable()
    const torn: string[] = []
    const events: string[] = []
    const sandboxes: PodSandboxes = {
      async setUp() { throw new Error('nsenter: permission denied') },
      async tearDown(p) { torn.push(p.podIP) },
    }
    const pods = new MemoryObjectSource<Pod>([pod])
    const kubelet = kubeletWith(sandboxes, pods, network, events)
    await kubelet.start()
    await kubelet.idle()
    expect(events).toContain('FailedCreatePodSandBox: Failed to create pod sandbox: nsenter: permission denied')
    expect(network.lookup('10.244.0.2', 8080, 'tcp')).toBeDefined()
    await kubelet.stop()
    expect(torn).toEqual(['10.244.0.2'])
  })
})
