import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Node, Pod, Service } from '../../../src/api/index.js'
import {
  deriveEndpoints, deletionOrder, desiredSlices, planPodDeletion, planReplicaSet, planSliceSync, podsPerNode, schedulePod, siblingsPerNode, toleratesTaint,
} from '../../../src/controllers/index.js'
import { assignPodIP } from '../../../src/net/index.js'

function node(name: string, extra: { labels?: Record<string, string>; taints?: NonNullable<Node['spec']>['taints']; unschedulable?: boolean } = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: extra.labels ?? {} }, spec: { ...(extra.taints ? { taints: extra.taints } : {}), ...(extra.unschedulable ? { unschedulable: true } : {}) } }
}

function pod(name: string, extra: Partial<Pod['spec']> = {}, status: Pod['status'] = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' }, ...meta }, spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }], ...extra }, status }
}

const ready = (ip: string): Pod['status'] => ({ phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] })

describe('scheduler', () => {
  const nodes = [node('node-a'), node('node-b'), node('node-c')]

  it.each([
    { name: 'empty cluster: the first node by name', counts: {}, want: 'node-a' },
    { name: 'fewest pods first', counts: { 'node-a': 2, 'node-b': 1, 'node-c': 1 }, want: 'node-b' },
    { name: 'tie broken by name', counts: { 'node-a': 1, 'node-b': 0, 'node-c': 0 }, want: 'node-b' },
  ])('$name', ({ counts, want }) => {
    expect(schedulePod(pod('p'), nodes, new Map(Object.entries(counts)))).toEqual({ kind: 'scheduled', nodeName: want })
  })

  it('honours nodeSelector', () => {
    const labelled = [node('node-a'), node('node-b', { labels: { disk: 'ssd' } })]
    expect(schedulePod(pod('p', { nodeSelector: { disk: 'ssd' } }), labelled, new Map())).toEqual({ kind: 'scheduled', nodeName: 'node-b' })
  })

  it('skips tainted nodes unless tolerated, and explains when nothing fits', () => {
    const tainted = [node('node-a', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), node('node-b', { unschedulable: true })]
    expect(schedulePod(pod('p'), tainted, new Map())).toEqual({ kind: 'unschedulable', message: "0/2 nodes are available: 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable." })
    expect(schedulePod(pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }), tainted, new Map())).toEqual({ kind: 'scheduled', nodeName: 'node-a' })
  })

  it('matches tolerations like upstream ToleratesTaint', () => {
    const t = { key: 'k', value: 'v', effect: 'NoSchedule' as const }
    expect(toleratesTaint({ operator: 'Exists' }, t)).toBe(true)
    expect(toleratesTaint({ key: 'k', operator: 'Exists', effect: 'NoExecute' }, t)).toBe(false)
    expect(toleratesTaint({ key: 'k', value: 'w' }, t)).toBe(false)
    expect(toleratesTaint({ key: 'k', value: 'v' }, t)).toBe(true)
  })

  it('spreads a controller\'s replicas over nodes before balancing all pods', () => {
    // client and an echo pod on node-a, an echo pod and a bare pod on node-b, one web replica on node-c.
    const owned = (uid: string) => ({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid, controller: true }] })
    const pods = [
      pod('client', { nodeName: 'node-a' }),
      pod('echo-1', { nodeName: 'node-a' }, {}, owned('echo')),
      pod('echo-2', { nodeName: 'node-b' }, {}, owned('echo')),
      pod('debug', { nodeName: 'node-b' }),
      pod('web-1', { nodeName: 'node-c' }, {}, owned('web')),
    ]
    const next = pod('web-2', {}, {}, owned('web'))
    expect(siblingsPerNode(next, pods)).toEqual(new Map([['node-c', 1]]))
    // by total count alone node-c (1 pod) would win again
    expect(schedulePod(next, nodes, podsPerNode(pods))).toEqual({ kind: 'scheduled', nodeName: 'node-c' })
    expect(schedulePod(next, nodes, podsPerNode(pods), siblingsPerNode(next, pods))).toEqual({ kind: 'scheduled', nodeName: 'node-a' })
    expect(siblingsPerNode(pod('bare'), pods)).toEqual(new Map())
  })

  it('counts only live pods per node', () => {
    const pods = [pod('a', { nodeName: 'n1' }), pod('b', { nodeName: 'n1' }, {}, { deletionTimestamp: '2025-01-01T00:00:00Z' }), pod('c', { nodeName: 'n2' }, { phase: 'Succeeded' })]
    expect(podsPerNode(pods)).toEqual(new Map([['n1', 1]]))
  })
})

describe('ReplicaSet planning', () => {
  const rs = { metadata: { name: 'web-1', uid: 'u', generation: 2 }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } } } }

  it('creates the missing pods and ignores terminating ones', () => {
    const plan = planReplicaSet(rs, [pod('a', {}, ready('10.0.0.1')), pod('b', {}, {}, { deletionTimestamp: 'x' })])
    expect(plan.create).toBe(1)
    expect(plan.status).toMatchObject({ replicas: 1, readyReplicas: 1, availableReplicas: 1, terminatingReplicas: 1, observedGeneration: 2 })
  })

  it('deletes unscheduled, then not-ready, then newest pods first', () => {
    const pods = [
      pod('old-ready', { nodeName: 'n' }, ready('10.0.0.1'), { creationTimestamp: '2025-01-01T00:00:00Z' }),
      pod('new-ready', { nodeName: 'n' }, ready('10.0.0.2'), { creationTimestamp: '2025-01-02T00:00:00Z' }),
      pod('not-ready', { nodeName: 'n' }, { phase: 'Running' }),
      pod('unscheduled'),
    ]
    expect([...pods].sort(deletionOrder).map((p) => p.metadata.name)).toEqual(['unscheduled', 'not-ready', 'new-ready', 'old-ready'])
    expect(planReplicaSet({ ...rs, spec: { ...rs.spec, replicas: 1 } }, pods).delete.map((p) => p.metadata.name)).toEqual(['unscheduled', 'not-ready', 'new-ready'])
  })
})

describe('graceful pod deletion', () => {
  const now = Date.parse('2025-01-01T00:00:00Z')

  it('sets deletionTimestamp to the end of the grace period for a scheduled pod', () => {
    const plan = planPodDeletion(pod('p', { nodeName: 'n', terminationGracePeriodSeconds: 30 }), undefined, now)
    expect(plan).toMatchObject({ kind: 'graceful', pod: { metadata: { deletionTimestamp: '2025-01-01T00:00:30Z', deletionGracePeriodSeconds: 30 } } })
  })

  it.each([
    { name: 'grace period 0', p: pod('p', { nodeName: 'n' }), grace: 0 },
    { name: 'an unscheduled pod', p: pod('p'), grace: undefined },
    { name: 'a finished pod', p: pod('p', { nodeName: 'n' }, { phase: 'Succeeded' }), grace: undefined },
  ])('removes $name at once', ({ p, grace }) => {
    expect(planPodDeletion(p, grace, now)).toEqual({ kind: 'now' })
  })

  it('only ever shortens the grace period', () => {
    const terminating = pod('p', { nodeName: 'n' }, {}, { deletionTimestamp: '2025-01-01T00:00:10Z', deletionGracePeriodSeconds: 10 })
    expect(planPodDeletion(terminating, 30, now)).toEqual({ kind: 'graceful', pod: terminating })
    expect(planPodDeletion(terminating, 5, now)).toMatchObject({ kind: 'graceful', pod: { metadata: { deletionTimestamp: '2025-01-01T00:00:05Z' } } })
  })
})

describe('EndpointSlice sync', () => {
  const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', uid: 'svc-uid' }, spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] } }
  const pods = [
    pod('a', { nodeName: 'node-a' }, ready('10.244.0.2')),
    pod('b', { nodeName: 'node-b' }, { phase: 'Running', podIP: '10.244.1.2' }),
    pod('c', { nodeName: 'node-c' }, ready('10.244.2.2'), { deletionTimestamp: '2025-01-01T00:00:00Z' }),
  ]

  it('creates, updates and deletes slices to match the derived ones', () => {
    const desired = desiredSlices(svc, pods, [])
    expect(desired).toHaveLength(1)
    const plan = planSliceSync(desired, [])
    expect(plan.create).toHaveLength(1)
    const live = { ...desired[0]!, metadata: { ...desired[0]!.metadata, resourceVersion: '7' } } as EndpointSlice
    expect(planSliceSync(desired, [live])).toEqual({ create: [], update: [], delete: [] })
    const fewer = desiredSlices(svc, pods.slice(0, 1), [])
    expect(planSliceSync(fewer, [live]).update[0]?.metadata.resourceVersion).toBe('7')
    expect(planSliceSync([], [live]).delete).toEqual([live.metadata.name])
  })

  it('mirrors ready, not-ready and (leaving out) terminating endpoints into v1 Endpoints', () => {
    const ep = deriveEndpoints(svc, desiredSlices(svc, pods, [])) as { subsets: { addresses: { ip: string }[]; notReadyAddresses: { ip: string }[]; ports: unknown[] }[] }
    expect(ep.subsets).toEqual([{ addresses: [expect.objectContaining({ ip: '10.244.0.2', nodeName: 'node-a' })], notReadyAddresses: [expect.objectContaining({ ip: '10.244.1.2' })], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }])
  })
})

describe('stand-in kubelet pod IPs', () => {
  it('takes the lowest free address of the node CIDR from .2 on', () => {
    expect(assignPodIP('10.244.1.0/24', new Set(['10.244.1.2']))).toBe('10.244.1.3')
  })
})
