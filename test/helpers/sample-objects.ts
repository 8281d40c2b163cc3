/**
 * One valid object of every served kind, with the fields that tables, controllers and the proxier
 * read filled in, and a seeded mutation (set an odd value, delete) at any path: inputs for the
 * property tests of decoding and validation.
 */
import fc from 'fast-check'
import { minimal } from './minimal-objects.js'

const meta = { name: 'x', namespace: 'default', labels: { app: 'web' }, creationTimestamp: '2026-12-06T00:00:00Z' }
const podSpec = { nodeName: 'n', containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }] }] }
const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] }
const template = { metadata: { labels: { app: 'web' } }, spec: podSpec }

/** One valid object of every served kind, with the fields the readers look at filled in. */
const controlledSamples: Readonly<Record<string, Record<string, unknown>>> = {
  Namespace: { metadata: { name: 'ns' }, status: { phase: 'Active' } },
  Node: { metadata: { name: 'n', labels: { 'node-role.kubernetes.io/control-plane': '' } }, spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'], unschedulable: false },
    status: { addresses: [{ type: 'InternalIP', address: '192.168.0.2' }, { type: 'Hostname', address: 'n' }], conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0' } } },
  Pod: { metadata: meta, spec: podSpec, status: { phase: 'Running', podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }], conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'i', imageID: '' }] } },
  Service: { metadata: meta, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], selector: { app: 'web' }, externalIPs: ['203.0.113.7'], loadBalancerSourceRanges: ['198.51.100.0/24'],
    ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080, protocol: 'TCP' }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
  Endpoints: { metadata: meta, subsets: [{ addresses: [{ ip: '10.244.0.5' }], ports: [{ port: 80, protocol: 'TCP' }] }] },
  ConfigMap: { metadata: meta, data: { a: 'b' } },
  Secret: { metadata: meta, type: 'Opaque', data: { a: 'Yg==' } },
  Event: { metadata: meta, involvedObject: { kind: 'Pod', name: 'x' }, reason: 'Started', message: 'm', type: 'Normal', count: 1, lastTimestamp: '2026-12-06T00:00:00Z' },
  EndpointSlice: { metadata: meta, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true }, nodeName: 'n' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  Deployment: { metadata: meta, spec: { replicas: 2, selector, template: { ...template, metadata: { labels: { app: 'web', tier: 'a' } } } }, status: { replicas: 2, readyReplicas: 1 } },
  ReplicaSet: { metadata: meta, spec: { replicas: 2, selector, template: { ...template, metadata: { labels: { app: 'web', tier: 'a' } } } }, status: { replicas: 2 } },
}

/** The kinds kpe only stores, from their minimal bodies; the review kinds are answered, never stored, and have none. */
export const samples: Readonly<Record<string, Record<string, unknown>>> = {
  ...Object.fromEntries(Object.entries(minimal).map(([kind, body]) => [kind, { metadata: { ...meta }, ...body }])),
  ...controlledSamples,
}

export type Path = (string | number)[]
export function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at)
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out))
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out)
  return out
}

export const oddValue = fc.oneof(
  fc.constantFrom(null, true, 0, -1, 1.5, 65536, 2 ** 31, '', 'x', 'None', '10.0.0.0/33', '0.0.0.0', '::1', 'fe80::1', [], {}, [null], [1], ['x'], [{}], { a: 1 }),
  fc.string({ maxLength: 10 }),
  fc.integer(),
)

export const mutationArb = fc.record({ pick: fc.nat(), op: fc.constantFrom('set', 'set', 'delete'), value: oddValue })

export function mutate(doc: Record<string, unknown>, m: { pick: number; op: string; value: unknown }): Record<string, unknown> {
  const root = structuredClone(doc)
  const paths = pathsOf(root).filter((p) => p.length > 0)
  if (paths.length === 0) return root
  const path = paths[m.pick % paths.length]!
  let parent = root as Record<string | number, unknown>
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>
  const last = path.at(-1)!
  if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1)
    else delete parent[last]
  } else parent[last] = m.value
  return root
}

