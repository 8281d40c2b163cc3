/**
 * The lightweight nodes' shared kube-proxy loop: every node's rules from one ClusterRulesSync,
 * equal to what that node's own ProxierSync builds, synced at most once per minSyncPeriod.
 */
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Node, Service } from '../../../src/api/index.js'
import { defaultKubeProxyConfiguration } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { LightweightRulesLoop } from '../../../src/node/index.js'
import { resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { ProxierSync } from '../../../src/proxy/proxier/index.js'
import { FakeTimers } from '../kubelet/fake-timers.js'

const node = (name: string, i: number): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR: `10.244.${i}.0/24` }, status: { addresses: [{ type: 'InternalIP', address: `172.16.0.${10 + i}` }] } }) as Node
const service = (name: string, local = false): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'NodePort', clusterIP: `10.96.0.${name.length + 10}`, ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30000 + name.length }], ...(local ? { externalTrafficPolicy: 'Local' } : {}) } }) as Service
const slice = (svc: string, eps: readonly [string, string][]): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${svc}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4', endpoints: eps.map(([ip, n]) => ({ addresses: [ip], conditions: { ready: true }, nodeName: n })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
}) as EndpointSlice

describe('LightweightRulesLoop', () => {
  it('gives each node the rules its own proxier would build, and follows changes once per minSyncPeriod', async () => {
    const nodes = [node('node-0000', 0), node('node-0001', 1), node('node-0002', 2)]
    const services = new MemoryObjectSource<Service>([service('web'), service('local-web', true)])
    const slices = new MemoryObjectSource<EndpointSlice>([slice('web', [['10.244.0.5', 'node-0000'], ['10.244.1.5', 'node-0001']]), slice('local-web', [['10.244.2.7', 'node-0002']])])
    const timers = new FakeTimers()
    const kpc = defaultKubeProxyConfiguration()
    const loop = new LightweightRulesLoop({ nodes, kubeProxyConfiguration: kpc, services, endpointSlices: slices, timers, clock: { now: () => timers.now } })
    await loop.start()
    const alone = (n: Node): string => {
      const p = new ProxierSync(resolveProxierConfig({ config: kpc, ipFamily: 'IPv4', node: n, nodeName: n.metadata.name! }))
      for (const s of services.items()) p.tracker.serviceChanged(undefined, s)
      for (const s of slices.items()) p.tracker.sliceChanged(undefined, s)
      return p.nextSync('full').text
    }
    for (const n of nodes) expect(loop.restoreText(n.metadata.name!)).toBe(alone(n))
    expect(await loop.table('node-a')).toBeUndefined()
    expect((await loop.table('node-0000'))?.tables.map((t) => t.name)).toContain('nat')
    expect(loop.syncs).toBe(1)

    slices.upsert(slice('web', [['10.244.0.5', 'node-0000'], ['10.244.1.5', 'node-0001'], ['10.244.2.9', 'node-0002']]))
    slices.upsert(slice('local-web', [['10.244.2.7', 'node-0002'], ['10.244.0.8', 'node-0000']]))
    await new Promise((r) => setImmediate(r))
    await timers.advance(999)
    expect(loop.syncs).toBe(1)
    expect(loop.restoreText('node-0001')).not.toContain('10.244.2.9')
    await timers.advance(1)
    expect(loop.syncs).toBe(2)
    for (const n of nodes) expect(loop.restoreText(n.metadata.name!)).toBe(alone(n))
    loop.stop()
  })
})
