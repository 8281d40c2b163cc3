/**
 * The pod toolbox's dialer names its pod to the dataplane with the address it read from the Pod,
 * so a command in a pod that just started (`kubectl run -i`) leaves as that pod even before the
 * dataplane's index has caught up with it (it answered "No route to host" before).
 */
import { describe, expect, it } from 'vitest'
import type { Pod } from '../../../src/api/index.js'
import { buildClusterIndex, type ClusterDataplane, type PacketSource } from '../../../src/proxy/userspace/index.js'
import { EphemeralPorts } from '../../../src/up/ephemeral-ports.js'
import { PodToolboxContexts } from '../../../src/up/pod-toolbox.js'
import { loadFixture } from '../../helpers/fixtures.js'

const set = loadFixture('demo')
const index = buildClusterIndex({ services: set.services.map((l) => l.object), pods: set.pods.map((l) => l.object), nodes: set.nodes.map((l) => l.object) })

const justStarted = {
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tmp', namespace: 'default', uid: 'u-tmp' },
  spec: { nodeName: 'node-b', containers: [{ name: 'c', image: 'busybox' }] },
  status: { phase: 'Running', podIP: '10.244.1.77' },
} as unknown as Pod

describe('the pod toolbox dialer', () => {
  it('leaves as a pod the index does not list yet, from the IP and node its Pod has', async () => {
    expect(index.pods.has('default/tmp')).toBe(false)
    const clients: PacketSource[] = []
    const dp = {
      index, defaultNode: 'node-a',
      decide: (_entry: string, client: PacketSource) => { clients.push(client); return { error: 'the test stops here' } },
      refused: () => {},
    } as unknown as ClusterDataplane
    const contexts = new PodToolboxContexts(new EphemeralPorts(), { services: () => [], node: () => undefined, podUIDs: () => new Set(['u-tmp']) })
    contexts.attach(dp)
    const web = index.services.get('web.default')![0]!
    await expect(contexts.context(justStarted, 'c').dialer.dial(web, 80, new AbortController().signal)).rejects.toMatchObject({ why: 'unreachable', message: 'the test stops here' })
    expect(clients).toEqual([{ src: '10.244.1.77', origin: 'external', node: 'node-b', describe: 'pod default/tmp (10.244.1.77)' }])
  })
})
