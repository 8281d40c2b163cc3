/** The kube-proxy loop (src/proxy/proxier/proxier.ts) on fake timers with an in-memory object source. */
import { describe, expect, it } from 'vitest'
import { deriveEndpointSlices, type EndpointSlice, type Node, type Service } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { objectKey } from '../../../src/api/index.js'
import { resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { Proxier } from '../../../src/proxy/proxier/index.js'
import { ProxyChangeTracker } from '../../../src/proxy/model/index.js'
import type { RuleExecutor } from '../../../src/proxy/netfilter/index.js'
import { RecordingExecutor } from '../../helpers/recording-executor.js'
import { savedView } from '../../../src/proxy/iptables/index.js'
import { loadFixture } from '../../helpers/fixtures.js'
import { FakeTimers, flush } from '../kubelet/fake-timers.js'

const set = loadFixture('demo')
const nodes: Node[] = set.nodes.map((l) => l.object)
const allServices: Service[] = set.services.map((l) => l.object)
const allSlices: EndpointSlice[] = deriveEndpointSlices({ services: allServices, pods: set.pods.map((l) => l.object), nodes })
const config = resolveProxierConfig({ config: set.kubeProxyConfigurations[0]!.object, ipFamily: 'IPv4', node: nodes[0], nodeName: 'node-a' })

function setup(opts: { minSyncPeriodMs?: number } = {}) {
  const timers = new FakeTimers()
  const services = new MemoryObjectSource<Service>(allServices)
  const slices = new MemoryObjectSource<EndpointSlice>(allSlices)
  const executor = new RecordingExecutor()
  const proxier = new Proxier({
    config, source: { services, endpointSlices: slices }, executor, timers, clock: { now: () => timers.now },
    minSyncPeriodMs: opts.minSyncPeriodMs ?? 1000, syncPeriodMs: 30_000, fullSyncPeriodMs: 3_600_000,
  })
  return { timers, services, slices, executor, proxier }
}

describe('change tracker', () => {
  it('reports the net change per namespace/name; an add undone by a delete is no change', () => {
    const t = new ProxyChangeTracker()
    const web = allServices.find((s) => s.metadata.name === 'web')!
    t.serviceChanged(undefined, web)
    expect(t.hasPendingChanges()).toBe(true)
    const first = t.drain()
    expect([...first.keys()]).toEqual(['default/web'])
    expect(first.get('default/web')).toEqual({ service: web, slices: [] })
    expect(t.hasPendingChanges()).toBe(false)
    const extra = { ...web, metadata: { ...web.metadata, name: 'extra' } }
    t.serviceChanged(undefined, extra)
    t.serviceChanged(extra, undefined)
    expect(t.drain().size).toBe(0)
    const slice = allSlices.find((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'web')!
    t.sliceChanged(undefined, slice)
    expect([...t.drain().keys()]).toEqual(['default/web'])
  })

  it('an update to an equal object is no change; a real edit is', () => {
    const t = new ProxyChangeTracker()
    const web = allServices.find((s) => s.metadata.name === 'web')!
    t.serviceChanged(undefined, web)
    t.drain()
    t.serviceChanged(web, structuredClone(web))
    expect(t.drain().size).toBe(0)
    t.serviceChanged(web, { ...web, spec: { ...web.spec, externalIPs: ['192.0.2.1'] } })
    expect([...t.drain().keys()]).toEqual(['default/web'])
  })
})

describe('Proxier loop', () => {
  it('reports each successful sync to onSynced, but not one that finished after stop()', async () => {
    const timers = new FakeTimers()
    let release: () => void = () => {}
    let hold = false
    const executor: RuleExecutor = { apply: () => (hold ? new Promise<void>((r) => { release = r }) : Promise.resolve()), ensureChain: () => Promise.resolve(), ensureRule: () => Promise.resolve() }
    const synced: number[] = []
    const proxier = new Proxier({
      config, source: { services: new MemoryObjectSource<Service>(allServices), endpointSlices: new MemoryObjectSource<EndpointSlice>(allSlices) },
      executor, timers, clock: { now: () => timers.now }, onSynced: (state) => synced.push(state.servicePorts.length),
    })
    await proxier.start()
    expect(synced).toEqual([allServices.flatMap((s) => s.spec.ports ?? []).length])
    hold = true
    const late = proxier.syncNow()
    proxier.stop()
    release()
    await late
    expect(synced).toHaveLength(1)
  })

  it('starts with a full sync, then partial syncs of only the changed Services', async () => {
    const { proxier, executor, slices, timers } = setup()
    await proxier.start()
    expect(proxier.stats()).toMatchObject({ syncs: 1, fullSyncs: 1, lastSyncMode: 'full' })
    const echo = slices.items().find((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'echo')!
    slices.upsert({ ...echo, endpoints: echo.endpoints.slice(0, 1) })
    await flush()
    await timers.advance(1000)
    expect(proxier.stats()).toMatchObject({ syncs: 2, lastSyncMode: 'partial', lastChanged: ['default/echo'] })
    const partial = executor.texts[1]!
    expect(partial).toMatch(/default\/echo:http/)
    expect(partial).not.toMatch(/-A KUBE-SVC-\S+ .*default\/web:http ->/)
    proxier.stop()
  })

  it('syncs at most once per minSyncPeriod however many events arrive', async () => {
    const { proxier, services, timers } = setup({ minSyncPeriodMs: 1000 })
    await proxier.start()
    const web = services.get('default/web')!
    for (let i = 0; i < 5; i++) services.upsert({ ...web, metadata: { ...web.metadata, annotations: { n: String(i) } } })
    await flush()
    await timers.advance(999)
    expect(proxier.stats().syncs).toBe(1)
    await timers.advance(1)
    expect(proxier.stats().syncs).toBe(2)
    await timers.advance(5000)
    expect(proxier.stats().syncs).toBe(2)
    proxier.stop()
  })

  it('a failed apply is retried after syncPeriod as a full sync', async () => {
    const { proxier, executor, services, timers } = setup()
    await proxier.start()
    executor.failNext = 1
    services.delete(objectKey(services.get('default/sticky')!))
    await flush()
    await timers.advance(1000)
    expect(proxier.stats()).toMatchObject({ syncs: 1, failures: 1 })
    await timers.advance(30_000)
    expect(proxier.stats()).toMatchObject({ syncs: 2, fullSyncs: 2, lastSyncMode: 'full' })
    // the deleted service's chains were declared and deleted (-X) from the executor's table
    expect(executor.texts[1]).toMatch(/^-X KUBE-SVC-/m)
    expect(executor.inner.table().tables.find((t) => t.name === 'nat')!.chains.some((c) => c.rules.some((r) => r.matches.some((m) => m.kind === 'comment' && m.text.startsWith('default/sticky'))))).toBe(false)
    proxier.stop()
  })

  it('relists after a 410 and syncs the difference', async () => {
    const { proxier, services, timers } = setup()
    await proxier.start()
    services.expireWatches()
    services.delete('default/empty')
    await flush()
    await timers.advance(1000)
    expect(proxier.stats().lastChanged).toEqual(['default/empty'])
    proxier.stop()
  })

  it('renders Prometheus metrics with sync durations and rule counts', async () => {
    const { proxier } = setup()
    await proxier.start()
    const text = proxier.renderMetrics()
    expect(text).toMatch(/^kubeproxy_sync_proxy_rules_duration_seconds_count\{node="node-a"\} 1$/m)
    expect(text).toMatch(/^kubeproxy_sync_proxy_rules_iptables_total\{node="node-a",table="nat"\} \d+$/m)
    expect(text).toMatch(/^# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram$/m)
    proxier.stop()
  })
})
