/**
 * Proxier.idle: what kpe up's summary waits for. A slice update that changes no rule makes no sync,
 * yet the loop is idle (nothing left to apply); a real change is pending until its sync ran.
 */
import { describe, expect, it } from 'vitest'
import { deriveEndpointSlices, type EndpointSlice, type Node, type Service } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { InterpreterExecutor } from '../../../src/proxy/netfilter/index.js'
import { Proxier } from '../../../src/proxy/proxier/index.js'
import { loadFixture } from '../../helpers/fixtures.js'
import { FakeTimers, flush } from '../kubelet/fake-timers.js'

const set = loadFixture('demo')
const nodes: Node[] = set.nodes.map((l) => l.object)
const services: Service[] = set.services.map((l) => l.object)
const slices: EndpointSlice[] = deriveEndpointSlices({ services, pods: set.pods.map((l) => l.object), nodes })
const config = resolveProxierConfig({ config: set.kubeProxyConfigurations[0]!.object, ipFamily: 'IPv4', node: nodes[0], nodeName: 'node-a' })

describe('Proxier.idle', () => {
  it('is false while a change waits for its sync, and true after it, also when a change alters no rule', async () => {
    const timers = new FakeTimers()
    const sliceSource = new MemoryObjectSource<EndpointSlice>(slices)
    const proxier = new Proxier({
      config, source: { services: new MemoryObjectSource<Service>(services), endpointSlices: sliceSource }, executor: new InterpreterExecutor({ family: 'IPv4' }), timers,
      clock: { now: () => timers.now }, minSyncPeriodMs: 1000, syncPeriodMs: 30_000,
    })
    await proxier.start()
    await flush()
    expect(proxier.idle).toBe(true)
    const syncs = proxier.stats().syncs
    // Same endpoints, new label: the tracker records no change.
    const s0 = slices[0]!
    sliceSource.upsert({ ...s0, metadata: { ...s0.metadata, labels: { ...s0.metadata.labels, touched: 'yes' } } })
    await flush()
    await timers.advance(1000)
    await flush()
    expect(proxier.idle).toBe(true)
    // A real change: one endpoint fewer.
    sliceSource.upsert({ ...s0, endpoints: s0.endpoints.slice(1) })
    await flush()
    expect(proxier.idle).toBe(false)
    await timers.advance(1000)
    await proxier.settled()
    expect(proxier.idle).toBe(true)
    expect(proxier.stats().syncs).toBeGreaterThan(syncs)
    proxier.stop()
  })
})
