/**
 * Sharing rule work between nodes must not change any node's rules: for random clusters (every
 * Service type and policy, zone and node hints, nodes in several zones, IPs inside and outside
 * the source ranges, per-node pod CIDRs), ClusterIptablesRules.forNode equals the unshared
 * buildIptablesRules + renderIptablesRestore of the same node, text and table.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, KubeProxyConfiguration, Node } from '../../src/api/index.js'
import { zoneLabel } from '../../src/api/index.js'
import { buildIptablesRules, ClusterIptablesRules } from '../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig, servicePortKey, type EndpointInfo, type ProxierConfig, type ProxyState } from '../../src/proxy/model/index.js'
import { renderIptablesRestore } from '../../src/proxy/netfilter/index.js'
import { buildNftablesRules, ClusterNftablesRules, renderNftablesTransaction } from '../../src/proxy/nftables/index.js'
import { clusterArb, nodeNames, type ClusterCase } from '../helpers/cluster-arbitrary.js'

const zones = ['zone-a', 'zone-b'] as const

/** Zone and node hints on some slices' endpoints (the arbitrary writes none), varying per endpoint. */
const hintsArb = fc.record({
  on: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  perEndpoint: fc.array(fc.record({
    zones: fc.subarray([...zones], { minLength: 1 }),
    nodes: fc.option(fc.subarray([...nodeNames], { minLength: 1 }), { nil: undefined }),
  }), { minLength: 7, maxLength: 7 }),
})

type Hints = { on: boolean[]; perEndpoint: { zones: string[]; nodes: string[] | undefined }[] }

function withHints(c: ClusterCase, hints: Hints): ClusterCase {
  const endpointSlices = c.endpointSlices.map((s, i): EndpointSlice => {
    if (!hints.on[i % hints.on.length]) return s
    return {
      ...s,
      endpoints: s.endpoints.map((e, j) => {
        const h = hints.perEndpoint[(i + j) % hints.perEndpoint.length]!
        return { ...e, hints: { forZones: h.zones.map((name) => ({ name })), ...(h.nodes ? { forNodes: h.nodes.map((name) => ({ name })) } : {}) } }
      }),
    }
  })
  return { services: c.services, endpointSlices }
}

const nodeArb = fc.record({
  zone: fc.option(fc.constantFrom(...zones), { nil: undefined }),
  // 192.168.x is inside one of the arbitrary's loadBalancerSourceRanges; 198.51.100.x is in none.
  ip: fc.constantFrom('192.168.0.10', '192.168.7.1', '198.51.100.4'),
})

const proxyConfigArb: fc.Arbitrary<KubeProxyConfiguration> = fc.record({
  detectLocalMode: fc.constantFrom('ClusterCIDR', 'NodeCIDR') as fc.Arbitrary<'ClusterCIDR' | 'NodeCIDR'>,
  nodePortAddresses: fc.constantFrom([], ['192.168.0.0/16'], ['127.0.0.0/8', '198.51.100.0/24']),
  masqueradeAll: fc.boolean(),
  preferSame: fc.boolean(),
}).map((k) => ({
  apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
  kind: 'KubeProxyConfiguration',
  clusterCIDR: '10.0.0.0/8',
  detectLocalMode: k.detectLocalMode,
  nodePortAddresses: [...k.nodePortAddresses],
  iptables: { masqueradeAll: k.masqueradeAll },
  featureGates: { PreferSameTrafficDistribution: k.preferSame },
}))

/** The model as the proxier of `nodeName` holds it: isLocal marks its own endpoints. */
function localTo(state: ProxyState, nodeName: string): ProxyState {
  const endpoints = new Map<string, readonly EndpointInfo[]>()
  for (const [key, eps] of state.endpoints) endpoints.set(key, eps.map((e) => ({ ...e, isLocal: e.nodeName !== undefined && e.nodeName === nodeName })))
  return { servicePorts: state.servicePorts, endpoints }
}

function nodeObject(name: string, i: number, n: { zone: string | undefined; ip: string }): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, ...(n.zone ? { labels: { [zoneLabel]: n.zone } } : {}) },
    spec: { podCIDR: `10.${i + 1}.0.0/16` },
    status: { addresses: [{ type: 'InternalIP', address: n.ip }] },
  }
}

describe('ClusterIptablesRules', () => {
  it('every node with sharing equals that node built and rendered alone', () => {
    fc.assert(
      fc.property(clusterArb(5), hintsArb, fc.array(nodeArb, { minLength: 4, maxLength: 4 }), proxyConfigArb, fc.integer({ min: 0, max: 12 }), (cluster, hints, nodes, kpc, threshold) => {
        const c = withHints(cluster, hints)
        // A fourth node that no endpoint names: it takes its class's rules unchanged.
        const names = [...nodeNames, 'node-d']
        const configs: ProxierConfig[] = names.map((name, i) => ({
          ...resolveProxierConfig({ config: kpc, ipFamily: 'IPv4', node: nodeObject(name, i, nodes[i]!), nodeName: name }),
          largeClusterEndpointsThreshold: threshold,
        }))
        // The model as node-a's proxier holds it: its isLocal marks must not leak to other nodes.
        const shared = new ClusterIptablesRules(buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a'))
        for (const config of configs) {
          const alone = buildIptablesRules({ state: buildProxyState(c.services, c.endpointSlices, 'IPv4', config.nodeName), config })
          const got = shared.forNode(config)
          expect(got.text).toBe(renderIptablesRestore(alone))
          expect(got.table()).toEqual(alone)
        }
      }),
      { numRuns: 300, seed: 1717 },
    )
  })

  it('nftables: every node with sharing equals that node built and rendered alone', () => {
    fc.assert(
      fc.property(clusterArb(5), hintsArb, fc.array(nodeArb, { minLength: 4, maxLength: 4 }), proxyConfigArb, (cluster, hints, nodes, kpc) => {
        const c = withHints(cluster, hints)
        const names = [...nodeNames, 'node-d']
        // nftables mode: NodePort addresses default to each node's own IP, so every node's setup differs.
        const configs: ProxierConfig[] = names.map((name, i) => resolveProxierConfig({ config: { ...kpc, mode: 'nftables', nftables: { masqueradeAll: kpc.iptables?.masqueradeAll ?? false } }, ipFamily: 'IPv4', node: nodeObject(name, i, nodes[i]!), nodeName: name }))
        const shared = new ClusterNftablesRules(buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a'))
        for (const config of configs) {
          const alone = buildNftablesRules({ state: buildProxyState(c.services, c.endpointSlices, 'IPv4', config.nodeName), config })
          const got = shared.forNode(config)
          expect(got.text).toBe(renderNftablesTransaction(alone))
          expect(got.ruleset()).toEqual(alone)
        }
      }),
      { numRuns: 300, seed: 4242 },
    )
  })

  it('a model built on an earlier one (kept ports, changed endpoints, largeClusterMode flips) equals a fresh build', () => {
    fc.assert(
      fc.property(clusterArb(5), clusterArb(5), hintsArb, fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }), fc.array(nodeArb, { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 12 }), (a, b, hints, keep, nodes, threshold) => {
        const first = buildProxyState(a.services, a.endpointSlices, 'IPv4', 'node-a')
        const other = withHints(b, hints)
        const fresh = buildProxyState(other.services, other.endpointSlices, 'IPv4', 'node-a').endpoints
        // The same ServicePortInfo objects; per port either the same endpoint list object or another one
        // (and so another total: largeClusterMode may flip under the one threshold).
        const endpoints = new Map<string, readonly EndpointInfo[]>()
        first.servicePorts.forEach((sp, i) => {
          const key = servicePortKey(sp.name)
          const eps = keep[i % keep.length] ? first.endpoints.get(key) : fresh.get(key)
          if (eps) endpoints.set(key, eps)
        })
        const second: ProxyState = { servicePorts: first.servicePorts, endpoints }
        const kpc: KubeProxyConfiguration = { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' }
        const names = [...nodeNames, 'node-d']
        const configsWith = (threshold: number): ProxierConfig[] => names.map((name, i) => ({
          ...resolveProxierConfig({ config: kpc, ipFamily: 'IPv4', node: nodeObject(name, i, nodes[i]!), nodeName: name }),
          largeClusterEndpointsThreshold: threshold,
        }))
        const earlier = new ClusterIptablesRules(first)
        for (const config of configsWith(threshold)) earlier.forNode(config)
        const later = new ClusterIptablesRules(second, earlier)
        for (const config of configsWith(threshold)) {
          const alone = buildIptablesRules({ state: localTo(second, config.nodeName), config })
          expect(later.forNode(config).text).toBe(renderIptablesRestore(alone))
        }
      }),
      { numRuns: 200, seed: 2024 },
    )
  })

  it('nodes of one class share the common chains by reference', () => {
    const c = fc.sample(clusterArb(5).filter((x) => x.services.length >= 3 && x.endpointSlices.some((s) => s.endpoints.length > 0)), { numRuns: 1, seed: 5 })[0]!
    const kpc: KubeProxyConfiguration = { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' }
    const shared = new ClusterIptablesRules(buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a'))
    const [a, b] = ['node-x', 'node-y'].map((name, i) => shared.forNode(resolveProxierConfig({ config: kpc, ipFamily: 'IPv4', node: nodeObject(name, i, { zone: 'zone-a', ip: '198.51.100.4' }), nodeName: name })))
    const natA = a!.table().tables[1]!.chains.filter((ch) => ch.name.startsWith('KUBE-SEP-'))
    const natB = b!.table().tables[1]!.chains.filter((ch) => ch.name.startsWith('KUBE-SEP-'))
    expect(natA.length).toBeGreaterThan(0)
    natA.forEach((ch, i) => expect(natB[i]).toBe(ch))
  })
})
