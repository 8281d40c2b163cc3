/**
 * The proxier's incremental path (change tracker -> IncrementalProxyState -> IncrementalIptablesBuilder,
 * as ProxierSync runs it) against the from-scratch path (buildProxyState -> buildIptablesRules ->
 * renderIptablesRestore) over random sequences of cluster changes, full and partial syncs, and
 * failed applies.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Service } from '../../src/api/index.js'
import { objectKey } from '../../src/api/index.js'
import { chainName, type IPAddress } from '../../src/net/index.js'
import { buildIptablesRules, IncrementalIptablesBuilder, isServiceChain } from '../../src/proxy/iptables/index.js'
import { buildProxyState, changedServiceNames, IncrementalProxyState, resolveProxierConfig, type ProxierConfig } from '../../src/proxy/model/index.js'
import { renderIptablesRestore } from '../../src/proxy/netfilter/index.js'
import { ProxierSync } from '../../src/proxy/proxier/index.js'
import { ProxyChangeTracker } from '../../src/proxy/model/index.js'
import { clusterArb, type ClusterCase } from '../helpers/cluster-arbitrary.js'
import { FakeIptables } from '../helpers/fake-iptables.js'

const baseConfig: ProxierConfig = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName: 'node-a',
  extraInterfaceAddresses: ['192.168.0.2' as IPAddress],
})

/** Tells a tracker about every object that differs between two cluster states (watch events). */
function feed(tracker: ProxyChangeTracker, before: ClusterCase, after: ClusterCase): void {
  const diff = <T extends Service | EndpointSlice>(a: readonly T[], b: readonly T[], changed: (p: T | undefined, c: T | undefined) => void): void => {
    const old = new Map(a.map((o) => [objectKey(o), o]))
    const now = new Map(b.map((o) => [objectKey(o), o]))
    for (const [k, o] of old) if (!now.has(k)) changed(o, undefined)
    // Every current object is sent again, changed or not, as a relist would: unchanged ones must net out.
    for (const [k, o] of now) changed(old.get(k), o)
  }
  diff(before.services, after.services, (p, c) => tracker.serviceChanged(p, c))
  diff(before.endpointSlices, after.endpointSlices, (p, c) => tracker.sliceChanged(p, c))
}

const empty: ClusterCase = { services: [], endpointSlices: [] }

const stepArb = fc.record({
  cluster: clusterArb(5),
  /** Per service index: keep the previous state's Service and slice, so most steps are small changes. */
  keep: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  mode: fc.constantFrom('full', 'partial') as fc.Arbitrary<'full' | 'partial'>,
  applyFails: fc.boolean(),
})

/** The next cluster: services the mask keeps come from `before` (same objects), the rest from `fresh`. */
function mix(before: ClusterCase, fresh: ClusterCase, keep: readonly boolean[]): ClusterCase {
  const name = (o: Service | EndpointSlice): string => o.metadata.labels?.['kubernetes.io/service-name'] ?? o.metadata.name ?? ''
  const index = (o: Service | EndpointSlice): number => Number(name(o).slice(3))
  const pick = <T extends Service | EndpointSlice>(a: readonly T[], b: readonly T[]): T[] => [
    ...a.filter((o) => keep[index(o)]),
    ...b.filter((o) => !keep[index(o)]),
  ]
  return { services: pick(before.services, fresh.services), endpointSlices: pick(before.endpointSlices, fresh.endpointSlices) }
}

describe('incremental proxier state', () => {
  it('IncrementalProxyState equals buildProxyState after any sequence of changes', () => {
    fc.assert(
      fc.property(fc.array(clusterArb(5), { minLength: 1, maxLength: 6 }), (states) => {
        const tracker = new ProxyChangeTracker()
        const model = new IncrementalProxyState('IPv4', 'node-a')
        let before = empty
        for (const state of states) {
          feed(tracker, before, state)
          model.update(tracker.drain())
          const expected = buildProxyState(state.services, state.endpointSlices, 'IPv4', 'node-a')
          expect(model.state.servicePorts).toEqual(expected.servicePorts)
          expect(new Map([...model.state.endpoints].sort(([a], [b]) => (a < b ? -1 : 1)))).toEqual(new Map([...expected.endpoints].sort(([a], [b]) => (a < b ? -1 : 1))))
          before = state
        }
      }),
      { numRuns: 200 },
    )
  })

  it('the tracker drains exactly the net change changedServiceNames reports', () => {
    fc.assert(
      fc.property(clusterArb(5), clusterArb(5), (a, b) => {
        const tracker = new ProxyChangeTracker()
        feed(tracker, empty, a)
        tracker.drain()
        feed(tracker, a, b)
        expect(new Set(tracker.drain().keys())).toEqual(changedServiceNames(a, b))
      }),
      { numRuns: 200 },
    )
  })

  it('every sync of the kept, incremental path equals a from-scratch build and render of the same input', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 7 }), fc.integer({ min: 0, max: 12 }), (steps, threshold) => {
        // A low threshold makes largeClusterMode flip as endpoints come and go.
        const config: ProxierConfig = { ...baseConfig, largeClusterEndpointsThreshold: threshold }
        const proxier = new ProxierSync(config)
        const kernel = new FakeIptables()
        let before = empty
        let needFull = true
        for (const step of steps) {
          const cluster = mix(before, step.cluster, step.keep)
          feed(proxier.tracker, before, cluster)
          const mode = needFull ? 'full' : step.mode
          const next = proxier.nextSync(mode)
          const existingNatChains = kernel.chainNames('nat').filter(isServiceChain).map(chainName)
          const expected = buildIptablesRules({
            state: buildProxyState(cluster.services, cluster.endpointSlices, 'IPv4', 'node-a'),
            config,
            sync: mode === 'full' ? { mode: 'full' } : { mode: 'partial', changedServices: changedServiceNames(before, cluster) },
            existingNatChains,
          })
          expect(next.text).toBe(renderIptablesRestore(expected))
          expect(next.table).toEqual(expected)
          before = cluster
          if (step.applyFails) {
            needFull = true
          } else {
            kernel.apply(next.table)
            proxier.applied(next.table)
            needFull = false
          }
        }
      }),
      { numRuns: 300 },
    )
  })

  it('a kept service port is rebuilt when only its endpoint list changes', () => {
    fc.assert(
      fc.property(clusterArb(5), clusterArb(5), fc.integer({ min: 0, max: 12 }), (a, b, threshold) => {
        const config: ProxierConfig = { ...baseConfig, largeClusterEndpointsThreshold: threshold }
        const builder = new IncrementalIptablesBuilder(config)
        const first = buildProxyState(a.services, a.endpointSlices, 'IPv4', 'node-a')
        // Same ServicePortInfo objects, other endpoints: identity of the ports alone must not reuse rules.
        const second = { servicePorts: first.servicePorts, endpoints: buildProxyState(b.services, b.endpointSlices, 'IPv4', 'node-a').endpoints }
        for (const state of [first, second]) {
          const next = builder.build({ state, sync: { mode: 'full' }, existingNatChains: new Set() })
          expect(next.text).toBe(renderIptablesRestore(buildIptablesRules({ state, config })))
        }
      }),
      { numRuns: 200 },
    )
  })
})
