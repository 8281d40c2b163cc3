/** Kubelet lifecycle on fake timers; pod servers are real, on 127.0.0.1 port 0. */
import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import type { Pod } from '../../../src/api/index.js'
import { Kubelet, PodNetworkTable, SeenSourceTable, type PodStatus } from '../../../src/kubelet/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { objectKey } from '../../../src/api/index.js'
import { FakeTimers, flush } from './fake-timers.js'

const pod: Pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default' },
  spec: {
    nodeName: 'node-a',
    terminationGracePeriodSeconds: 20,
    containers: [{ name: 'a', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'], ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 } }],
  },
}

function get(address: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: address, port, path, agent: false }, (res) => {
      let b = ''
      res.on('data', (c: Buffer) => (b += c.toString()))
      res.on('end', () => resolve(b))
    }).on('error', reject).end()
  })
}

describe('Kubelet', () => {
  it('runs a pod, reports readiness from its probe, and serves while terminating for the grace period', async () => {
    const timers = new FakeTimers()
    const pods = new MemoryObjectSource<Pod>([pod])
    const network = new PodNetworkTable()
    const statuses: PodStatus[] = []
    const finalized: string[] = []
    let probeOk = false
    const kubelet = new Kubelet({
      node: { name: 'node-a', podCIDRs: ['10.244.0.0/24'], hostIP: '192.168.77.10' },
      pods, network, seen: new SeenSourceTable(), timers, clock: { now: () => timers.now },
      prober: async () => probeOk,
      status: {
        async writeStatus(_p, s) { statuses.push(s) },
        async finalizeDeletion(p) { finalized.push(objectKey(p)) },
      },
    })
    await kubelet.start()
    await kubelet.idle()
    const ready = (s: PodStatus | undefined) => s?.conditions?.find((c) => c.type === 'Ready')?.status
    expect(statuses.at(-1)).toMatchObject({ phase: 'Running', podIP: '10.244.0.2', hostIP: '192.168.77.10' })
    expect((statuses.at(-1)?.containerStatuses as unknown[] | undefined)?.[0]).toMatchObject({ imageID: expect.stringMatching(/^kpe:\/\/image@sha256:[0-9a-f]{64}$/), containerID: expect.stringMatching(/^kpe:\/\/.+/) })
    expect(ready(statuses.at(-1))).toBe('False')
    const entry = network.lookup('10.244.0.2', 8080, 'tcp')!
    expect(await get(entry.local.address, entry.local.port, '/hostname')).toBe('web-1')

    await timers.advance(0)
    await kubelet.idle()
    expect(ready(statuses.at(-1))).toBe('False')
    probeOk = true
    await timers.advance(5000)
    await kubelet.idle()
    expect(ready(statuses.at(-1))).toBe('True')

    pods.upsert({ ...pods.get('default/web-1')!, metadata: { ...pod.metadata, deletionTimestamp: '2025-01-01T00:00:00Z', deletionGracePeriodSeconds: 20 } })
    await flush()
    await kubelet.idle()
    await timers.advance(19_000)
    expect(network.lookup('10.244.0.2', 8080, 'tcp')).toBeDefined()
    expect(await get(entry.local.address, entry.local.port, '/hostname')).toBe('web-1')
    expect(finalized).toEqual([])
    await timers.advance(1000)
    await kubelet.idle()
    await flush()
    expect(network.lookup('10.244.0.2', 8080, 'tcp')).toBeUndefined()
    expect(finalized).toEqual(['default/web-1'])
    await kubelet.stop()
  })
})
