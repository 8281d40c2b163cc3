/**
 * kubeproxy_network_programming_duration_seconds: upstream's buckets, the change tracker's trigger
 * times (upstream EndpointSliceUpdate's rules), and one observation per slice write per node after
 * the sync that applied it, in a node's Proxier and in the lightweight nodes' shared loop.
 */
import { describe, expect, it } from 'vitest'
import { defaultKubeProxyConfiguration, formatTriggerTime, lastChangeTriggerTimeAnnotation, type EndpointSlice, type Node, type Service } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { LightweightRulesLoop } from '../../../src/node/index.js'
import { ProxyChangeTracker, resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { RecordingExecutor } from '../../helpers/recording-executor.js'
import { Histogram, histogramLines, networkProgrammingBucketsSeconds, Proxier, renderProxierMetrics } from '../../../src/proxy/proxier/index.js'
import { FakeTimers, flush } from '../kubelet/fake-timers.js'

const base = Date.parse('2026-01-01T00:00:00Z')
const node = (name: string, i: number): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR: `10.244.${i}.0/24` }, status: { addresses: [{ type: 'InternalIP', address: `172.16.0.${10 + i}` }] } }) as Node
const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } } as Service
function slice(ips: readonly string[], triggerTime?: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' }, ...(triggerTime === undefined ? {} : { annotations: { [lastChangeTriggerTimeAnnotation]: formatTriggerTime(triggerTime) } }) },
    addressType: 'IPv4', endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'node-a' })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  } as EndpointSlice
}
const sample = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}()+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)

describe('the histogram', () => {
  it("has upstream's 81 buckets: 0, 0.25 s, 0.5 s, each second to 59 s, each 5 s to 115 s, each 30 s to 300 s", () => {
    const b = networkProgrammingBucketsSeconds
    expect(b.length).toBe(81)
    expect(b.slice(0, 5)).toEqual([0, 0.25, 0.5, 1, 2])
    expect(b.slice(60, 64)).toEqual([58, 59, 60, 65])
    expect(b.slice(73)).toEqual([115, 120, 150, 180, 210, 240, 270, 300])
    expect([...b].sort((x, y) => x - y)).toEqual(b)
  })

  it('renders cumulative buckets, +Inf, sum and count; counts only grow', () => {
    const h = new Histogram([1, 2])
    h.observe(0.5)
    h.observe(1.5, 3)
    h.observe(7)
    h.observe(Number.NaN)
    expect(histogramLines('x', 'node="a"', h.snapshot())).toEqual([
      'x_bucket{node="a",le="1"} 1', 'x_bucket{node="a",le="2"} 4', 'x_bucket{node="a",le="+Inf"} 5', 'x_sum{node="a"} 12', 'x_count{node="a"} 5',
    ])
  })
})

describe('trigger times in the change tracker', () => {
  it("a write that changes a slice's endpoints gives its trigger time once; a relist's unchanged copy and a slice without the annotation give none", () => {
    const t = new ProxyChangeTracker()
    const first = slice(['10.244.0.5'], base + 1_000)
    t.sliceChanged(undefined, first)
    expect(t.takeTriggerTimes()).toEqual([base + 1_000])
    expect(t.takeTriggerTimes()).toEqual([])
    t.sliceChanged(first, structuredClone(first))
    t.sliceChanged(first, slice(['10.244.0.5', '10.244.0.6']))
    expect(t.takeTriggerTimes()).toEqual([])
  })

  it("a slice's deletion drops its Service's pending times (its annotation dates the last write, not the deletion)", () => {
    const t = new ProxyChangeTracker()
    const s = slice(['10.244.0.5'], base + 1_000)
    t.sliceChanged(undefined, s)
    t.sliceChanged(s, undefined)
    expect(t.takeTriggerTimes()).toEqual([])
  })
})

describe("a node's Proxier", () => {
  it('observes trigger time to applied once per slice write after the sync that applied it; not before the loop started, not for a failed sync', async () => {
    const timers = new FakeTimers()
    const clock = { now: () => base + timers.now }
    const services = new MemoryObjectSource<Service>([service])
    // Written before the loop started: upstream leaves such trigger times out.
    const slices = new MemoryObjectSource<EndpointSlice>([slice(['10.244.0.5'], base - 5_000)])
    const executor = new RecordingExecutor()
    const config = resolveProxierConfig({ config: defaultKubeProxyConfiguration(), ipFamily: 'IPv4', node: node('node-a', 0), nodeName: 'node-a' })
    const proxier = new Proxier({ config, source: { services, endpointSlices: slices }, executor, timers, clock, minSyncPeriodMs: 1000, syncPeriodMs: 30_000 })
    await proxier.start()
    expect(proxier.stats().networkProgramming.count).toBe(0)

    await timers.advance(300)
    slices.upsert(slice(['10.244.0.5', '10.244.0.6'], base + 200))
    await flush()
    await timers.advance(699)
    expect(proxier.stats().networkProgramming.count).toBe(0)
    await timers.advance(1)
    // Synced at base + 1000: 0.8 s after the trigger.
    const text = proxier.renderMetrics()
    expect(sample(text, 'kubeproxy_network_programming_duration_seconds_count{node="node-a"}')).toBe(1)
    expect(sample(text, 'kubeproxy_network_programming_duration_seconds_sum{node="node-a"}')).toBeCloseTo(0.8, 9)
    expect(sample(text, 'kubeproxy_network_programming_duration_seconds_bucket{node="node-a",le="0.5"}')).toBe(0)
    expect(sample(text, 'kubeproxy_network_programming_duration_seconds_bucket{node="node-a",le="1"}')).toBe(1)
    expect(text).toMatch(/^# TYPE kubeproxy_network_programming_duration_seconds histogram$/m)

    executor.failNext = 1
    slices.upsert(slice(['10.244.0.7'], base + 1_500))
    await flush()
    await timers.advance(1000)
    expect(proxier.stats().failures).toBe(1)
    expect(proxier.stats().networkProgramming.count).toBe(1)
    proxier.stop()
  })
})

describe('the lightweight nodes’ shared loop', () => {
  it('observes once per lightweight node per slice write when its sync makes every node’s rules hold the change', async () => {
    const timers = new FakeTimers()
    const clock = { now: () => base + timers.now }
    const nodes = [node('node-0000', 0), node('node-0001', 1), node('node-0002', 2)]
    const slices = new MemoryObjectSource<EndpointSlice>([slice(['10.244.0.5'], base - 1_000)])
    const loop = new LightweightRulesLoop({ nodes, kubeProxyConfiguration: defaultKubeProxyConfiguration(), services: new MemoryObjectSource<Service>([service]), endpointSlices: slices, timers, clock })
    await loop.start()
    expect(loop.stats().networkProgramming.count).toBe(0)
    await timers.advance(500)
    slices.upsert(slice(['10.244.0.5', '10.244.1.9'], base + 400))
    await flush()
    await timers.advance(500)
    expect(loop.restoreText('node-0002')).toContain('10.244.1.9')
    const stats = loop.stats()
    expect(stats.syncs).toBe(2)
    expect(stats.networkProgramming.count).toBe(3)
    expect(stats.networkProgramming.sum).toBeCloseTo(3 * 0.6, 9)
    const text = renderProxierMetrics([{ node: '(lightweight)', stats }])
    expect(sample(text, 'kubeproxy_network_programming_duration_seconds_bucket{node="(lightweight)",le="1"}')).toBe(3)
    expect(sample(text, 'kubeproxy_sync_partial_proxy_rules_total{node="(lightweight)"}')).toBe(1)
    loop.stop()
  })
})
