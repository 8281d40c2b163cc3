/**
 * ClusterRulesSync (every node's rules from one change tracker and one cluster model, rebuilt on
 * the previous sync's rules) against each node built from scratch, over random sequences of
 * cluster changes; and a Service that cannot be built is left out, not the whole sync.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Service } from '../../src/api/index.js'
import { objectKey } from '../../src/api/index.js'
import { buildIptablesRules } from '../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig, type ProxierConfig, type ProxyChangeTracker } from '../../src/proxy/model/index.js'
import { renderIptablesRestore } from '../../src/proxy/netfilter/index.js'
import { ClusterRulesSync } from '../../src/proxy/proxier/index.js'
import { clusterArb, nodeNames, type ClusterCase } from '../helpers/cluster-arbitrary.js'

const configs: ProxierConfig[] = [...nodeNames, 'node-d'].map((nodeName, i) => resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' },
  ipFamily: 'IPv4',
  node: { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName }, status: { addresses: [{ type: 'InternalIP', address: i % 2 === 0 ? `192.168.0.${i + 1}` : `198.51.100.${i + 1}` }] } },
  nodeName,
}))

/** Every object that differs between two cluster states, as watch events. */
function feed(tracker: ProxyChangeTracker, before: ClusterCase, after: ClusterCase): void {
  const diff = <T extends Service | EndpointSlice>(a: readonly T[], b: readonly T[], changed: (p: T | undefined, c: T | undefined) => void): void => {
    const old = new Map(a.map((o) => [objectKey(o), o]))
    const now = new Map(b.map((o) => [objectKey(o), o]))
    for (const [k, o] of old) if (!now.has(k)) changed(o, undefined)
    for (const [k, o] of now) if (old.get(k) !== o) changed(old.get(k), o)
  }
  diff(before.services, after.services, (p, c) => tracker.serviceChanged(p, c))
  diff(before.endpointSlices, after.endpointSlices, (p, c) => tracker.sliceChanged(p, c))
}

const alone = (c: ClusterCase, config: ProxierConfig): string =>
  renderIptablesRestore(buildIptablesRules({ state: buildProxyState(c.services, c.endpointSlices, 'IPv4', config.nodeName), config }))

describe('ClusterRulesSync', () => {
  it('after every sync each node equals its own build from scratch', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(clusterArb(5), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 })), { minLength: 1, maxLength: 5 }), (steps) => {
        const sync = new ClusterRulesSync(configs[0]!)
        let before: ClusterCase = { services: [], endpointSlices: [] }
        for (const [fresh, keep] of steps) {
          // Kept Services are the same objects as before, so the sync keeps their rules.
          const index = (o: Service | EndpointSlice): number => Number((o.metadata.labels?.['kubernetes.io/service-name'] ?? o.metadata.name ?? '').slice(3))
          const pick = <T extends Service | EndpointSlice>(a: readonly T[], b: readonly T[]): T[] => [...a.filter((o) => keep[index(o)]), ...b.filter((o) => !keep[index(o)])]
          const now: ClusterCase = { services: pick(before.services, fresh.services), endpointSlices: pick(before.endpointSlices, fresh.endpointSlices) }
          feed(sync.tracker, before, now)
          const { rules, skipped } = sync.nextSync()
          expect(skipped).toEqual([])
          for (const config of configs) expect(rules.forNode(config).text).toBe(alone(now, config))
          before = now
        }
      }),
      { numRuns: 150, seed: 77 },
    )
  })

  it('leaves out a Service that cannot be built and keeps every other change', () => {
    const service = (name: string, ip: string, extra: Record<string, unknown> = {}): Service =>
      ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: ip, ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...extra } }) as Service
    const sync = new ClusterRulesSync(configs[0]!)
    const a = service('a', '10.96.0.10')
    sync.tracker.serviceChanged(undefined, a)
    sync.nextSync()
    const bad = service('b', '10.96.0.11', { ports: [null] })
    const c = service('c', '10.96.0.12')
    sync.tracker.serviceChanged(undefined, bad)
    sync.tracker.serviceChanged(undefined, c)
    const second = sync.nextSync()
    expect(second.skipped.map((s) => s.name)).toEqual(['default/b'])
    for (const config of configs) expect(second.rules.forNode(config).text).toBe(alone({ services: [a, c], endpointSlices: [] }, config))
  })
})
