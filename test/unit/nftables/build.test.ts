import { describe, expect, it } from 'vitest'
import type { Cidr, IPAddress } from '../../../src/net/index.js'
import { resolveProxierConfig, type EndpointInfo, type ProxierConfig, type ServicePortInfo } from '../../../src/proxy/model/index.js'
import { buildNftablesRules, endpointNames, renderNftablesTransaction } from '../../../src/proxy/nftables/index.js'
import { makeEndpoint, makeServicePort } from '../../helpers/service-port.js'

const v4 = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' },
  ipFamily: 'IPv4',
  node: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.2' }] } },
  nodeName: 'node-a',
})
const config: ProxierConfig = { ...v4, masqueradeMark: { value: 0x4000, digits: 4 } }

const sp = makeServicePort
const ep = makeEndpoint
const local = { isLocal: true, nodeName: 'node-a' }

function render(port: ServicePortInfo, endpoints: EndpointInfo[], cfg: ProxierConfig = config, serviceCIDRs: Cidr[] = []): string[] {
  const state = { servicePorts: [port], endpoints: new Map([[`${port.nameString}/${port.protocol}`, endpoints]]) }
  return renderNftablesTransaction(buildNftablesRules({ state, config: cfg, serviceCIDRs })).split('\n').filter((l) => l !== '')
}

const P = 'add rule ip kube-proxy'
const E = 'add element ip kube-proxy'
const svcChain = 'service-ULMVA6XW-ns1/svc1/tcp/p80'
const extChain = 'external-ULMVA6XW-ns1/svc1/tcp/p80'
const localChain = 'local-ULMVA6XW-ns1/svc1/tcp/p80'
const fwChain = 'firewall-ULMVA6XW-ns1/svc1/tcp/p80'
const epChain = (ip: string): string => endpointNames(sp().name, 'tcp', ip, 80).chain

// One row per service type and policy: lines that must be present, and substrings that must not.
describe('buildNftablesRules, one row per policy case', () => {
  it.each([
    ['ClusterIP with endpoints dispatches through service-ips', sp(), [ep('10.0.1.1')], config, [
      `${E} service-ips { 172.30.0.41 . tcp . 80 : goto ${svcChain} }`,
      `${E} cluster-ips { 172.30.0.41 }`,
      `${P} ${svcChain} ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade`,
      `${P} ${epChain('10.0.1.1')} ip saddr 10.0.1.1 jump mark-for-masquerade`,
      `${P} ${epChain('10.0.1.1')} meta l4proto tcp dnat to 10.0.1.1:80`,
    ], [`${E} no-endpoint-services `, extChain]],
    ['no endpoints: ClusterIP and NodePort goto reject-chain, no service chains', sp({ nodePort: 30001 }), [], config, [
      `${E} no-endpoint-services { 172.30.0.41 . tcp . 80 comment "ns1/svc1:p80" : goto reject-chain }`,
      `${E} no-endpoint-nodeports { tcp . 30001 comment "ns1/svc1:p80" : goto reject-chain }`,
      `${E} cluster-ips { 172.30.0.41 }`,
    ], [`${E} service-ips `, `${E} service-nodeports `, svcChain, extChain]],
    ['NodePort with Cluster policy masquerades, then goes to the service chain', sp({ nodePort: 30001 }), [ep('10.0.1.1')], config, [
      `${E} service-nodeports { tcp . 30001 : goto ${extChain} }`,
      `${P} ${extChain} jump mark-for-masquerade`,
      `${P} ${extChain} goto ${svcChain}`,
    ], [`${E} no-endpoint-nodeports `]],
    ['externalIP goes to the external chain', sp({ externalIPs: ['192.168.99.11' as IPAddress] }), [ep('10.0.1.1')], config, [
      `${E} service-ips { 192.168.99.11 . tcp . 80 : goto ${extChain} }`,
    ], []],
    ['LoadBalancer with source ranges uses firewall-ips and a firewall chain', sp({ loadBalancerVIPs: ['1.2.3.4' as IPAddress], loadBalancerSourceRanges: ['203.0.113.0/25', '198.51.100.0/24'] as Cidr[] }), [ep('10.0.1.1')], config, [
      `${E} service-ips { 1.2.3.4 . tcp . 80 : goto ${extChain} }`,
      `${E} firewall-ips { 1.2.3.4 . tcp . 80 : goto ${fwChain} }`,
      `${P} ${fwChain} ip saddr != { 203.0.113.0/25 , 198.51.100.0/24 } drop`,
    ], []],
    ['a source range holding the node IP also admits the LB IPs', sp({ loadBalancerVIPs: ['1.2.3.4' as IPAddress], loadBalancerSourceRanges: ['192.168.0.0/16'] as Cidr[] }), [ep('10.0.1.1')], config, [
      `${P} ${fwChain} ip saddr != { 192.168.0.0/16 , 1.2.3.4 } drop`,
    ], []],
    ['LoadBalancer without endpoints keeps its firewall chain and rejects', sp({ loadBalancerVIPs: ['1.2.3.4' as IPAddress], loadBalancerSourceRanges: ['203.0.113.0/25'] as Cidr[] }), [], config, [
      `${E} firewall-ips { 1.2.3.4 . tcp . 80 : goto ${fwChain} }`,
      `${E} no-endpoint-services { 1.2.3.4 . tcp . 80 comment "ns1/svc1:p80" : goto reject-chain }`,
    ], [`${E} service-ips `]],
    ['ClientIP affinity: one timeout set per endpoint, lookups before numgen, update before dnat', sp({ stickyMaxAgeSeconds: 10800 }), [ep('10.0.1.1')], config, [
      'add set ip kube-proxy affinity-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }',
      `${P} ${svcChain} ip saddr @affinity-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 goto ${epChain('10.0.1.1')}`,
      `${P} ${epChain('10.0.1.1')} update @affinity-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 { ip saddr }`,
    ], []],
    ['eTP Local with a local endpoint: three short-circuits, then the local chain', sp({ nodePort: 30001, externalPolicyLocal: true }), [ep('10.0.1.1', local), ep('10.0.2.1')], config, [
      `${P} ${extChain} ip saddr 10.0.0.0/8 goto ${svcChain} comment "short-circuit pod traffic"`,
      `${P} ${extChain} fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"`,
      `${P} ${extChain} fib saddr type local goto ${svcChain} comment "short-circuit local traffic"`,
      `${P} ${extChain} goto ${localChain}`,
      `${P} ${localChain} numgen random mod 1 vmap { 0 : goto ${epChain('10.0.1.1')} }`,
    ], [`${E} no-endpoint-nodeports `]],
    ['eTP Local without local endpoints: short-circuits only, external traffic dropped', sp({ nodePort: 30001, externalIPs: ['192.168.99.11' as IPAddress], externalPolicyLocal: true }), [ep('10.0.2.1')], config, [
      `${P} ${extChain} fib saddr type local goto ${svcChain} comment "short-circuit local traffic"`,
      `${E} no-endpoint-services { 192.168.99.11 . tcp . 80 comment "ns1/svc1:p80" : drop }`,
      `${E} no-endpoint-nodeports { tcp . 30001 comment "ns1/svc1:p80" : drop }`,
      `${E} service-nodeports { tcp . 30001 : goto ${extChain} }`,
    ], [localChain, `${P} ${extChain} goto`]],
    ['iTP Local without local endpoints drops ClusterIP traffic', sp({ internalPolicyLocal: true }), [ep('10.0.2.1')], config, [
      `${E} no-endpoint-services { 172.30.0.41 . tcp . 80 comment "ns1/svc1:p80" : drop }`,
    ], [`${E} service-ips `, svcChain, localChain]],
    ['iTP Local with a local endpoint uses the local chain for the ClusterIP', sp({ internalPolicyLocal: true }), [ep('10.0.1.1', local), ep('10.0.2.1')], config, [
      `${E} service-ips { 172.30.0.41 . tcp . 80 : goto ${localChain} }`,
      `${P} ${localChain} ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade`,
    ], [`chain ip kube-proxy ${svcChain}`]],
    ['masqueradeAll masquerades every ClusterIP connection', sp(), [ep('10.0.1.1')], { ...config, masqueradeAll: true }, [
      `${P} ${svcChain} ip daddr 172.30.0.41 jump mark-for-masquerade`,
    ], ['ip saddr != 10.0.0.0/8']],
    ['bridge-interface detector', sp({ nodePort: 30001, externalPolicyLocal: true }), [ep('10.0.1.1', local)], { ...config, localDetector: { kind: 'bridge-interface', name: 'cbr0' } }, [
      `${P} ${svcChain} ip daddr 172.30.0.41 iifname != cbr0 jump mark-for-masquerade`,
      `${P} ${extChain} iifname cbr0 goto ${svcChain} comment "short-circuit pod traffic"`,
    ], []],
    ['interface-name-prefix detector', sp(), [ep('10.0.1.1')], { ...config, localDetector: { kind: 'interface-name-prefix', prefix: 'veth' } }, [
      `${P} ${svcChain} ip daddr 172.30.0.41 iifname != veth* jump mark-for-masquerade`,
    ], []],
    ['no detector: no masquerade rule and no pod short-circuit', sp({ nodePort: 30001, externalPolicyLocal: true }), [ep('10.0.1.1', local)], { ...config, localDetector: { kind: 'none' } }, [
      `${P} ${extChain} fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"`,
    ], ['short-circuit pod traffic', `${P} ${svcChain} ip daddr`]],
    ['nodePortAddresses matching everything: fib local, no nodeport-ips set', sp(), [], config, [
      `${P} services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports`,
      `${P} nodeport-endpoints-check ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports`,
    ], ['nodeport-ips']],
    ['specific nodePortAddresses fill nodeport-ips without loopback', sp(), [], { ...config, nodePortAddresses: ['192.168.0.0/16', '127.0.0.0/8'] as Cidr[] }, [
      `${E} nodeport-ips { 192.168.0.2 }`,
      `${P} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
    ], ['nodeport-ips { 127.0.0.1 }']],
  ] as const)('%s', (_name, port, endpoints, cfg, present, absent) => {
    const lines = render(port, [...endpoints], cfg)
    const text = lines.join('\n') + '\n'
    for (const l of present) expect(lines, l).toContain(l)
    for (const s of absent) expect(text.includes(s), `unexpected ${JSON.stringify(s)}`).toBe(false)
  })
})

describe('cluster-ips-check', () => {
  it('omits the unallocated-ClusterIP drop rule when no service CIDR is known', () => {
    expect(render(sp(), []).filter((l) => l.includes('unallocated'))).toEqual([])
  })

  it('joins the service CIDRs of the family as upstream does', () => {
    const lines = render(sp(), [], config, ['172.30.0.0/16', 'fd00::/108', '10.96.0.0/12'] as Cidr[])
    expect(lines).toContain(`${P} cluster-ips-check ip daddr { 172.30.0.0/16,10.96.0.0/12 } drop comment "Drop traffic to unallocated ClusterIPs"`)
  })
})

describe('IPv6', () => {
  const v6 = resolveProxierConfig({
    config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: 'fd00:10::/64' },
    ipFamily: 'IPv6',
    node: undefined,
    nodeName: 'node-a',
  })

  it('uses the ip6 table, ::1 exclusion, dotted endpoint names and bracketed DNAT', () => {
    const text = render(sp({ clusterIP: 'fd00:30::41' as IPAddress, nodePort: 30001 }), [ep('fd00:10::1')], v6).join('\n')
    expect(text).toContain('add table ip6 kube-proxy { comment "rules for kube-proxy" ; }')
    expect(text).toContain('add set ip6 kube-proxy cluster-ips { type ipv6_addr ; comment "Active ClusterIPs" ; }')
    expect(text).toContain('add rule ip6 kube-proxy services fib daddr type local ip6 daddr != ::1 meta l4proto . th dport vmap @service-nodeports')
    expect(text).toMatch(/add rule ip6 kube-proxy service-ULMVA6XW-ns1\/svc1\/tcp\/p80 ip6 daddr fd00:30::41 ip6 saddr != fd00:10::\/64 jump mark-for-masquerade/)
    expect(text).toMatch(/add rule ip6 kube-proxy endpoint-[A-Z2-7]{8}-ns1\/svc1\/tcp\/p80__fd00\.10\.\.1\/80 meta l4proto tcp dnat to \[fd00:10::1\]:80/)
    expect(text).toMatch(/ip6 saddr fd00:10::1 jump mark-for-masquerade/)
  })
})

describe('determinism', () => {
  it('renders the same text for the same input', () => {
    const a = render(sp({ nodePort: 30001, stickyMaxAgeSeconds: 60 }), [ep('10.0.1.1'), ep('10.0.1.2')])
    const b = render(sp({ nodePort: 30001, stickyMaxAgeSeconds: 60 }), [ep('10.0.1.1'), ep('10.0.1.2')])
    expect(a).toEqual(b)
  })
})
