import { describe, expect, it } from 'vitest'
import { loadManifestText } from '../../../src/api/index.js'
import type { Cidr } from '../../../src/net/index.js'
import { buildNftablesRules, renderNftablesTransaction, sortNftablesDump } from '../../../src/proxy/nftables/index.js'
import { clusterObjects, nodeProxierInput } from '../../../src/proxy/model/index.js'

// The state of upstream's nftables TestSyncProxyRulesRepeated after its stale-chain-deletion
// step (KUBE-PROXY-SPEC.md section 10), written as manifests.
const manifests = `
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clusterCIDR: 10.0.0.0/8
nodePortAddresses: [192.168.0.2/32]
---
apiVersion: v1
kind: Node
metadata: { name: test-node }
status:
  addresses: [{ type: InternalIP, address: 192.168.0.2 }]
---
apiVersion: v1
kind: Service
metadata: { name: svc1, namespace: ns1 }
spec:
  type: ClusterIP
  clusterIP: 172.30.0.41
  ports: [{ name: p80, port: 80, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: svc1-abc, namespace: ns1, labels: { kubernetes.io/service-name: svc1 } }
addressType: IPv4
endpoints: [{ addresses: [10.0.1.1] }]
ports: [{ name: p80, port: 80, protocol: TCP }]
---
apiVersion: v1
kind: Service
metadata: { name: svc3, namespace: ns3 }
spec:
  type: ClusterIP
  clusterIP: 172.30.0.43
  ports: [{ name: p80, port: 80, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: svc3-abc, namespace: ns3, labels: { kubernetes.io/service-name: svc3 } }
addressType: IPv4
endpoints: [{ addresses: [10.0.3.1] }]
ports: [{ name: p80, port: 80, protocol: TCP }]
`

// Verbatim from the spec (upstream's expected literal, in its own line order).
const expected = `
add table ip kube-proxy { comment "rules for kube-proxy" ; }

add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }

add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }
add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }
add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }

add chain ip kube-proxy cluster-ips-check
add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }
add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }
add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }
add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }
add chain ip kube-proxy firewall-check
add chain ip kube-proxy mark-for-masquerade
add chain ip kube-proxy masquerading
add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
add chain ip kube-proxy nodeport-endpoints-check
add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
add chain ip kube-proxy services
add chain ip kube-proxy service-endpoints-check

add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
add rule ip kube-proxy cluster-ips-check ip daddr { 172.30.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"
add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check
add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check
add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check
add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check
add rule ip kube-proxy filter-input ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output-pre-dnat ct state new jump firewall-check
add rule ip kube-proxy filter-output ct state new jump cluster-ips-check
add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000
add rule ip kube-proxy masquerading mark and 0x4000 == 0 return
add rule ip kube-proxy masquerading mark set mark xor 0x4000
add rule ip kube-proxy masquerading masquerade fully-random
add rule ip kube-proxy nat-output jump services
add rule ip kube-proxy nat-postrouting jump masquerading
add rule ip kube-proxy nat-prerouting jump services
add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add rule ip kube-proxy reject-chain reject
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports

add element ip kube-proxy nodeport-ips { 192.168.0.2 }
add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services

add element ip kube-proxy cluster-ips { 172.30.0.41 }
add element ip kube-proxy cluster-ips { 172.30.0.43 }
add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }
add element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 : goto service-4AT6LBPK-ns3/svc3/tcp/p80 }

add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 }
add chain ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80
add rule ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 ip saddr 10.0.1.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 meta l4proto tcp dnat to 10.0.1.1:80

add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 ip daddr 172.30.0.43 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 }
add chain ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80
add rule ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 ip saddr 10.0.3.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 meta l4proto tcp dnat to 10.0.3.1:80
`

function renderExample(): string {
  const set = loadManifestText(manifests, 'repeated-example.yaml')
  const kpc = set.kubeProxyConfigurations[0]!.object
  const input = nodeProxierInput(clusterObjects(set), { kubeProxyConfiguration: kpc }, 'test-node', 'IPv4')
  // Upstream's test fake injects the mark as 0x4000 (the real constructor prints 0x00004000).
  const config = { ...input.config, masqueradeMark: { value: 0x4000, digits: 4 } }
  return renderNftablesTransaction(buildNftablesRules({ state: input.state, config, serviceCIDRs: ['172.30.0.0/16' as Cidr] }))
}

describe("upstream's TestSyncProxyRulesRepeated example", () => {
  it('matches the expected table after upstream normalization', () => {
    expect(sortNftablesDump(renderExample())).toBe(sortNftablesDump(expected))
  })

  it('puts every line of the expected table in the rendered transaction, no more', () => {
    const lines = (t: string): string[] => t.split('\n').filter((l) => l !== '').sort()
    expect(lines(renderExample())).toEqual(lines(expected))
  })
})

describe('sortNftablesDump', () => {
  it('drops blank and comment lines, orders kinds then names, keeps rule order', () => {
    const text = [
      'add element ip kube-proxy b { 1 }',
      '# a comment',
      'add rule ip kube-proxy z second',
      '',
      'add rule ip kube-proxy a only',
      'add rule ip kube-proxy z first',
      'add chain ip kube-proxy z',
      'add table ip kube-proxy { comment "x" ; }',
      'add element ip kube-proxy a { 2 }',
      'add element ip kube-proxy a { 1 }',
    ].join('\n')
    expect(sortNftablesDump(text).split('\n')).toEqual([
      'add table ip kube-proxy { comment "x" ; }',
      'add chain ip kube-proxy z',
      'add rule ip kube-proxy a only',
      'add rule ip kube-proxy z second',
      'add rule ip kube-proxy z first',
      'add element ip kube-proxy a { 1 }',
      'add element ip kube-proxy a { 2 }',
      'add element ip kube-proxy b { 1 }',
    ])
  })
})
