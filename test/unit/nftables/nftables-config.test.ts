import { describe, expect, it } from 'vitest'
import { loadManifestText, parseProxierConfigFile, type KubeProxyConfiguration, type Node } from '../../../src/api/index.js'
import { proxierInputFromFile } from '../../../src/cli/vector-config.js'
import { resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { buildNodeNftRules } from '../../../src/proxy/node-rules/index.js'
import { renderNftablesTransaction } from '../../../src/proxy/nftables/index.js'

// nftables mode's own inputs: the `nftables` config section, the nodePortAddresses default
// (the node's primary IP since 1.31) and the cluster's ServiceCIDRs.
const node: Node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node-a' },
  status: { addresses: [{ type: 'InternalIP', address: '192.168.0.2' }, { type: 'InternalIP', address: '192.168.0.3' }] },
}

function kpc(extra: Partial<KubeProxyConfiguration>): KubeProxyConfiguration {
  return { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', ...extra }
}

const resolve = (config: KubeProxyConfiguration, serviceCIDRs?: string[]) =>
  resolveProxierConfig({ config, ipFamily: 'IPv4', node, nodeName: 'node-a', ...(serviceCIDRs ? { serviceCIDRs } : {}) })

const manifests = `
apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80, name: http}]}
`

const serviceCIDR = (cidrs: string) => `---
apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata: {name: kubernetes}
spec: {cidrs: ${cidrs}}
`

function nftText(yaml: string, config?: KubeProxyConfiguration): string {
  const req = { manifests: loadManifestText(yaml, 'in.yaml'), ...(config ? { kubeProxyConfiguration: config } : {}) }
  return renderNftablesTransaction(buildNodeNftRules(req).ruleset)
}

describe('the nftables section', () => {
  it('is read in nftables mode, and the iptables one is not', () => {
    const c = resolve(kpc({ mode: 'nftables', nftables: { masqueradeAll: true, masqueradeBit: 15 }, iptables: { masqueradeAll: false, masqueradeBit: 3 } }))
    expect(c.masqueradeAll).toBe(true)
    expect(c.masqueradeMark).toEqual({ value: 0x8000, digits: 8 })
  })

  it('is ignored in iptables mode', () => {
    const c = resolve(kpc({ mode: 'iptables', nftables: { masqueradeAll: true, masqueradeBit: 15 } }))
    expect(c.masqueradeAll).toBe(false)
    expect(c.masqueradeMark).toEqual({ value: 0x4000, digits: 8 })
  })

  it('shapes the rendered mark (issue 15: 0x00004000 was printed)', () => {
    const text = nftText(manifests, kpc({ mode: 'nftables', nftables: { masqueradeAll: true, masqueradeBit: 15 } }))
    expect(text).toContain('add rule ip kube-proxy mark-for-masquerade mark set mark or 0x00008000\n')
    expect(text).not.toContain('0x00004000')
  })

  it('is validated like the iptables section, field paths included', () => {
    const bad = (nftables: unknown) => () => parseProxierConfigFile(JSON.stringify(kpc({ mode: 'nftables', nftables: nftables as never })), 'c.yaml')
    expect(bad({ masqueradeBit: 40 })).toThrow(/nftables\.masqueradeBit.*range \[0, 31\]/)
    expect(bad({ masqueradeAll: 'yes' })).toThrow(/nftables\.masqueradeAll.*boolean/)
    expect(bad({ localhostNodePorts: true })).toThrow(/nftables\.localhostNodePorts/)
  })
})

describe('nodePortAddresses in nftables mode', () => {
  it('defaults to the node primary IP (one per family), not every local address', () => {
    expect(resolve(kpc({ mode: 'nftables' })).nodePortAddresses).toEqual(['192.168.0.2/32'])
    expect(resolve(kpc({ mode: 'iptables' })).nodePortAddresses).toEqual([])
  })

  it('renders NodePorts only on the primary IP when unset', () => {
    const text = nftText(manifests, kpc({ mode: 'nftables' }))
    expect(text).toContain('add element ip kube-proxy nodeport-ips { 192.168.0.2 }\n')
    expect(text).toContain('add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports\n')
  })

  it('never serves NodePorts on localhost', () => {
    expect(resolve(kpc({ mode: 'nftables', nodePortAddresses: ['127.0.0.0/8'] })).localhostNodePorts).toBe(false)
  })
})

describe('service CIDRs', () => {
  const drop = 'add rule ip kube-proxy cluster-ips-check ip daddr { 10.96.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"\n'

  it('come from ServiceCIDR objects, this family only', () => {
    expect(nftText(manifests + serviceCIDR('[10.96.0.0/16, "fd00:10:96::/112"]'))).toContain(drop)
    expect(nftText(manifests)).not.toContain('unallocated')
  })

  it('print several CIDRs as upstream does ({ A,B })', () => {
    expect(nftText(manifests + serviceCIDR('[10.96.0.0/16, 10.97.0.0/16]'))).toContain('ip daddr { 10.96.0.0/16,10.97.0.0/16 } drop')
  })

  it('name the object and field of a bad CIDR', () => {
    expect(() => nftText(manifests + serviceCIDR('[10.96.0.0/33]'))).toThrow(/ServiceCIDR kubernetes.*spec\.cidrs\[0\].*10\.96\.0\.0\/33/)
  })

  it('come from proxier.serviceCIDRs in a vector config, checked at the boundary', () => {
    const file = (cidrs: string) => `kubeProxyConfiguration: {kind: KubeProxyConfiguration, apiVersion: kubeproxy.config.k8s.io/v1alpha1, mode: nftables}\nproxier: {serviceCIDRs: ${cidrs}}\n`
    const cfg = proxierInputFromFile(parseProxierConfigFile(file('[10.96.0.0/16]'), 'c.yaml'))
    expect(renderNftablesTransaction(buildNodeNftRules({ manifests: loadManifestText(manifests, 'in.yaml'), ...cfg }).ruleset)).toContain(drop)
    expect(() => parseProxierConfigFile(file('[nope]'), 'c.yaml')).toThrow(/proxier\.serviceCIDRs\[0\]/)
    expect(() => parseProxierConfigFile(file('10.96.0.0/16'), 'c.yaml')).toThrow(/proxier\.serviceCIDRs.*list/)
  })
})
