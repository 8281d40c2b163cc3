/**
 * planNodeSync: which Services a sync rewrites after the objects changed, and that the plan is
 * the one the proxier's own incremental path (change tracker + ProxierSync) syncs with.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Service } from '../../../src/api/index.js'
import { objectKey } from '../../../src/api/index.js'
import type { IPAddress } from '../../../src/net/index.js'
import { buildIptablesRules } from '../../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig, type ProxierConfig } from '../../../src/proxy/model/index.js'
import { renderIptablesRestore } from '../../../src/proxy/netfilter/index.js'
import { heldServiceChains, planNodeSync, type ServiceObjectSet } from '../../../src/proxy/node-rules/index.js'
import { ProxierSync } from '../../../src/proxy/proxier/proxier-state.js'
import { clusterArb } from '../../helpers/cluster-arbitrary.js'

const svc = (name: string, port = 80, extra: Partial<Service['spec']> = {}): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns', name },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port, protocol: 'TCP', targetPort: 8080 }], ...extra },
}) as Service
const slice = (service: string, ips: string[], name = `${service}-abc`): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { namespace: 'ns', name, labels: { 'kubernetes.io/service-name': service } },
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
}) as EndpointSlice
const set = (services: Service[], endpointSlices: EndpointSlice[] = []): ServiceObjectSet => ({ services, endpointSlices })

describe('planNodeSync', () => {
  it.each<[string, ServiceObjectSet, ServiceObjectSet, string[]]>([
    ['nothing changed', set([svc('a')], [slice('a', ['10.0.0.1'])]), set([svc('a')], [slice('a', ['10.0.0.1'])]), []],
    ['a Service added', set([svc('a')]), set([svc('a'), svc('b')]), ['ns/b']],
    ['a Service deleted', set([svc('a'), svc('b')]), set([svc('a')]), ['ns/b']],
    ['a port changed', set([svc('a', 80)]), set([svc('a', 81)]), ['ns/a']],
    ['an endpoint added to a slice', set([svc('a')], [slice('a', ['10.0.0.1'])]), set([svc('a')], [slice('a', ['10.0.0.1', '10.0.0.2'])]), ['ns/a']],
    ['a second slice for the same Service', set([svc('a')], [slice('a', ['10.0.0.1'])]), set([svc('a')], [slice('a', ['10.0.0.1']), slice('a', ['10.0.0.2'], 'a-def')]), ['ns/a']],
    ['slices reordered: no change', set([svc('a')], [slice('a', ['10.0.0.1']), slice('a', ['10.0.0.2'], 'a-def')]), set([svc('a')], [slice('a', ['10.0.0.2'], 'a-def'), slice('a', ['10.0.0.1'])]), []],
    ['slices of a Service that does not exist yet', set([]), set([], [slice('c', ['10.0.0.3'])]), ['ns/c']],
    ['session affinity switched on', set([svc('a')]), set([svc('a', 80, { sessionAffinity: 'ClientIP' })]), ['ns/a']],
  ])('%s', (_name, before, after, changed) => {
    const plan = planNodeSync(before, after)
    expect([...plan.changedServices].sort()).toEqual(changed)
    expect(plan.sync).toEqual({ mode: 'partial', changedServices: plan.changedServices })
    expect(planNodeSync(before, after, { full: true }).sync).toEqual({ mode: 'full' })
  })
})

const config: ProxierConfig = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' },
  ipFamily: 'IPv4', node: undefined, nodeName: 'node-a', extraInterfaceAddresses: ['192.168.0.2' as IPAddress],
})

/** Watch events for every object that differs (and a relist of the rest, which must net out). */
function feed(state: ProxierSync, before: ServiceObjectSet, after: ServiceObjectSet): void {
  const diff = <T extends Service | EndpointSlice>(a: readonly T[], b: readonly T[], changed: (p: T | undefined, c: T | undefined) => void): void => {
    const old = new Map(a.map((o) => [objectKey(o), o]))
    const now = new Map(b.map((o) => [objectKey(o), o]))
    for (const [k, o] of old) if (!now.has(k)) changed(o, undefined)
    for (const [k, o] of now) changed(old.get(k), o)
  }
  diff(before.services, after.services, (p, c) => state.tracker.serviceChanged(p, c))
  diff(before.endpointSlices, after.endpointSlices, (p, c) => state.tracker.sliceChanged(p, c))
}

describe('planNodeSync agrees with the proxier', () => {
  it('the proxier partial sync after a change is the plan built from scratch over the rules the node held', () => {
    fc.assert(
      fc.property(clusterArb(5), clusterArb(5), fc.boolean(), (a, b, keepSome) => {
        // Half the time keep the first Services' objects, so most Services are unchanged.
        const after: ServiceObjectSet = keepSome
          ? { services: [...a.services.slice(0, 2), ...b.services.slice(2)], endpointSlices: [...a.endpointSlices.filter((s) => a.services.slice(0, 2).some((x) => x.metadata.name === s.metadata.labels?.['kubernetes.io/service-name'])), ...b.endpointSlices.filter((s) => !a.services.slice(0, 2).some((x) => x.metadata.name === s.metadata.labels?.['kubernetes.io/service-name']))] }
          : b
        const proxier = new ProxierSync(config)
        feed(proxier, { services: [], endpointSlices: [] }, a)
        const first = proxier.nextSync('full')
        proxier.applied(first.table)
        feed(proxier, a, after)
        const next = proxier.nextSync('partial')
        const plan = planNodeSync(a, after)
        expect(next.changed).toEqual(plan.changedServices)
        const expected = buildIptablesRules({
          state: buildProxyState(after.services, after.endpointSlices, 'IPv4', 'node-a'), config, sync: plan.sync, existingNatChains: heldServiceChains(first.table),
        })
        expect(next.text).toBe(renderIptablesRestore(expected))
      }),
      { numRuns: 150, seed: 11, interruptAfterTimeLimit: 20_000 },
    )
  })
})
