/** The events a kubelet records (start, failed probes, stop), and a pod deleted while its kubelet was down. */
import { describe, expect, it } from 'vitest'
import { objectKey, type Pod } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import type { EventRecorder } from '../../../src/controllers/index.js'
import { Kubelet, PodNetworkTable, SeenSourceTable } from '../../../src/kubelet/index.js'
import { FakeTimers, flush } from './fake-timers.js'

const pod: Pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', uid: 'u1' },
  spec: {
    nodeName: 'node-a', terminationGracePeriodSeconds: 1,
    containers: [{ name: 'a', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 5 } }],
  },
}

function kubelet(pods: MemoryObjectSource<Pod>, timers: FakeTimers, recorded: string[], finalized: string[]): Kubelet {
  const events: EventRecorder = {
    recordEvent: (regarding, reason, note, type = 'Normal') => {
      const ref = 'metadata' in regarding ? { name: regarding.metadata.name ?? '', fieldPath: '' } : regarding
      recorded.push(`${type} ${reason} ${ref.name} ${ref.fieldPath ?? ''}: ${note}`)
    },
  }
  return new Kubelet({
    node: { name: 'node-a', podCIDRs: ['10.244.0.0/24'] }, pods, network: new PodNetworkTable(), seen: new SeenSourceTable(), timers, clock: { now: () => timers.now },
    prober: async () => false, events,
    status: { async writeStatus() {}, async finalizeDeletion(p) { finalized.push(objectKey(p)) } },
  })
}

describe('kubelet events', () => {
  it('records Pulling, Pulled, Created, Started, then Unhealthy per failed probe and Killing on deletion', async () => {
    const timers = new FakeTimers()
    const pods = new MemoryObjectSource<Pod>([pod])
    const recorded: string[] = []
    const k = kubelet(pods, timers, recorded, [])
    await k.start()
    await k.idle()
    expect(recorded).toEqual([
      'Normal Pulling web-1 spec.containers{a}: Pulling image "registry.k8s.io/e2e-test-images/agnhost:2.53"',
      'Normal Pulled web-1 spec.containers{a}: Successfully pulled image "registry.k8s.io/e2e-test-images/agnhost:2.53" in 0s (0s including waiting). Image size: 0 bytes.',
      'Normal Created web-1 spec.containers{a}: Created container: a',
      'Normal Started web-1 spec.containers{a}: Started container a',
    ])
    recorded.length = 0
    await timers.advance(0)
    await timers.advance(5000)
    await k.idle()
    expect(recorded).toEqual([
      'Warning Unhealthy web-1 spec.containers{a}: Readiness probe failed: Get "http://10.244.0.2:8080/readyz": no successful answer',
      'Warning Unhealthy web-1 spec.containers{a}: Readiness probe failed: Get "http://10.244.0.2:8080/readyz": no successful answer',
    ])
    recorded.length = 0
    pods.upsert({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:01Z', deletionGracePeriodSeconds: 1 } })
    await flush()
    await k.idle()
    expect(recorded).toEqual(['Normal Killing web-1 spec.containers{a}: Stopping container a'])
    await k.stop()
  })

  it('removes at once a pod that was deleted while the kubelet was not running', async () => {
    const timers = new FakeTimers()
    const pods = new MemoryObjectSource<Pod>([{ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:30Z', deletionGracePeriodSeconds: 30 } }])
    const recorded: string[] = []
    const finalized: string[] = []
    const k = kubelet(pods, timers, recorded, finalized)
    await k.start()
    await flush()
    expect(finalized).toEqual(['default/web-1'])
    expect(k.runningPods()).toEqual([])
    expect(recorded).toEqual([])
    await k.stop()
  })
})
