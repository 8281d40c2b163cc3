/**
 * Typed rule origins: every rule the builder writes can be looked up to the object, field and
 * role behind it, and an origin names only objects that are in the input.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Service } from '../../../src/api/index.js'
import type { IPAddress } from '../../../src/net/index.js'
import { buildIptablesRules, describeOrigin, kubeMarkMasqChain, savedView, type Provenance, type RuleOrigin } from '../../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig } from '../../../src/proxy/model/index.js'
import type { Rule, RuleTable } from '../../../src/proxy/netfilter/index.js'
import { buildNodeRules } from '../../../src/proxy/node-rules/index.js'
import { clusterArb, type ClusterCase } from '../../helpers/cluster-arbitrary.js'
import { fixtureRenders, loadFixture } from '../../helpers/fixtures.js'

function rulesOf(table: RuleTable): { table: string; chain: string; rule: Rule }[] {
  return table.tables.flatMap((t) => t.chains.flatMap((c) => c.rules.map((rule) => ({ table: t.name, chain: c.name as string, rule }))))
}

describe('every rule of every fixture has a typed origin', () => {
  it.each(fixtureRenders().map((r) => [`${r.fixture} ${r.node} ${r.family}`, r] as const))('%s', (_name, r) => {
    const provenance: Provenance = new Map()
    const manifests = loadFixture(r.fixture)
    const kpc = manifests.kubeProxyConfigurations[0]?.object
    const built = buildNodeRules({
      manifests,
      ...(kpc ? { kubeProxyConfiguration: kpc } : {}),
      nodeName: r.node,
      ipFamily: r.family,
      provenance,
    })
    const rules = rulesOf(savedView(built.table, provenance))
    expect(rules.length).toBeGreaterThan(0)
    const missing = rules.filter((x) => !provenance.has(x.rule)).map((x) => `${x.table} ${x.chain}`)
    expect(missing).toEqual([])
    for (const x of rules) expect(describeOrigin(provenance.get(x.rule)!)).not.toBe('')
  })
})

const configArb = fc.record({
  masqueradeAll: fc.boolean(),
  localhostNodePorts: fc.boolean(),
  detectLocalMode: fc.constantFrom('ClusterCIDR', undefined),
  largeClusterEndpointsThreshold: fc.constantFrom(0, 1000),
})

/** The objects an origin names must be in the input, and the rule must do what the role says. */
function checkOrigin(o: RuleOrigin, rule: Rule, cluster: ClusterCase): void {
  if (o.kind === 'node') return
  const svc: Service | undefined = cluster.services.find((s) => s.metadata.namespace === o.service.namespace && s.metadata.name === o.service.name)
  expect(svc, `Service ${o.service.namespace}/${o.service.name}`).toBeDefined()
  const port = svc!.spec.ports?.[o.portIndex]
  expect(port?.name ?? '').toBe(o.service.port)
  expect(port?.protocol ?? 'TCP').toBe(o.service.protocol)
  const f = o.field
  if (f?.path === 'spec.externalIPs') expect(svc!.spec.externalIPs).toContain(f.address)
  if (f?.path === 'status.loadBalancer.ingress') expect(svc!.status?.loadBalancer?.ingress?.map((i) => i.ip)).toContain(f.address)
  if (f?.path === 'spec.loadBalancerSourceRanges' && f.range !== undefined) expect(svc!.spec.loadBalancerSourceRanges).toContain(f.range)
  if (f?.path === 'spec.healthCheckNodePort') expect(svc!.spec.healthCheckNodePort).toBeDefined()
  if (o.endpoint) {
    const slice: EndpointSlice | undefined = cluster.endpointSlices.find((s) => `${s.metadata.namespace}/${s.metadata.name}` === o.endpoint!.slice)
    expect(slice, `EndpointSlice ${o.endpoint.slice}`).toBeDefined()
    expect(slice!.metadata.labels?.['kubernetes.io/service-name']).toBe(o.service.name)
    expect(slice!.endpoints.flatMap((e) => e.addresses.map((a) => `${a}:${slice!.ports?.find((p) => p.name === o.service.port)?.port}`))).toContain(o.endpoint.endpoint)
  }
  switch (o.role) {
    case 'endpoint-dnat':
      expect(rule.target).toEqual({ kind: 'dnat', to: o.endpoint?.endpoint })
      break
    case 'masquerade-mark':
    case 'hairpin-masquerade':
      expect(rule.target).toEqual({ kind: 'jump', chain: kubeMarkMasqChain })
      break
    case 'reject-no-endpoints':
      expect(rule.target?.kind).toBe('reject')
      break
    case 'drop-no-local-endpoints':
    case 'firewall-drop':
      expect(rule.target).toEqual({ kind: 'verdict', verdict: 'DROP' })
      break
    default:
      break
  }
}

describe('origins of random clusters (property)', () => {
  it('every rule has an origin naming only objects in the input, with a role its target agrees with', () => {
    fc.assert(
      fc.property(clusterArb(5), configArb, (cluster, c) => {
        const config = resolveProxierConfig({
          config: {
            apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
            kind: 'KubeProxyConfiguration',
            clusterCIDR: '10.0.0.0/8',
            ...(c.detectLocalMode ? { detectLocalMode: c.detectLocalMode } : {}),
            iptables: { masqueradeAll: c.masqueradeAll, localhostNodePorts: c.localhostNodePorts },
          },
          ipFamily: 'IPv4',
          node: undefined,
          nodeName: 'node-a',
          extraInterfaceAddresses: ['192.168.0.2' as IPAddress],
        })
        const provenance: Provenance = new Map()
        const state = buildProxyState(cluster.services, cluster.endpointSlices, 'IPv4', 'node-a')
        const table = buildIptablesRules({ state, config: { ...config, largeClusterEndpointsThreshold: c.largeClusterEndpointsThreshold }, provenance })
        for (const x of rulesOf(table)) {
          const o = provenance.get(x.rule)
          expect(o, `${x.table} ${x.chain}`).toBeDefined()
          checkOrigin(o!, x.rule, cluster)
        }
      }),
      { numRuns: 150, seed: 11, interruptAfterTimeLimit: 20_000 },
    )
  })

  it('asks for nothing when no provenance is passed (the hot path)', () => {
    const cluster = fc.sample(clusterArb(3), { numRuns: 1, seed: 5 })[0]!
    const config = resolveProxierConfig({ config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration' }, ipFamily: 'IPv4', node: undefined, nodeName: 'node-a' })
    const state = buildProxyState(cluster.services, cluster.endpointSlices, 'IPv4', 'node-a')
    const withOrigins: Provenance = new Map()
    // Same table either way: recording origins does not change a rule.
    expect(buildIptablesRules({ state, config })).toEqual(buildIptablesRules({ state, config, provenance: withOrigins }))
  })
})
