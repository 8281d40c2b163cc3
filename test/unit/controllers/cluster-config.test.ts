import { describe, expect, it } from 'vitest'
import { ClusterConfigError, defaultClusterConfig, defaultClusterConfigText, parseClusterConfig } from '../../../src/cluster/index.js'

describe('cluster configuration file', () => {
  it('defaults to the demo cluster', () => {
    const c = defaultClusterConfig()
    expect(c.serviceCIDRs.map((x) => x.cidr)).toEqual(['10.96.0.0/12'])
    expect(c.clusterCIDRs.map((x) => [x.cidr.cidr, x.nodeMaskSize])).toEqual([['10.244.0.0/16', 24]])
    expect(c.nodePortRange).toEqual({ base: 30000, size: 2768 })
    expect(c.loadBalancerPool.map((r) => r.text)).toEqual(['192.168.77.200-192.168.77.250'])
    expect(c.nodes.map((n) => [n.name, n.internalIPs])).toEqual([['node-a', ['192.168.77.10']], ['node-b', ['192.168.77.11']], ['node-c', ['192.168.77.12']]])
  })

  it('reads the documented default file to the same configuration', () => {
    expect(parseClusterConfig(defaultClusterConfigText)).toEqual(defaultClusterConfig())
  })

  it('accepts dual-stack CIDRs, mask sizes per family, taints and labels', () => {
    const c = parseClusterConfig(`apiVersion: kpe.io/v1alpha1
kind: KpeCluster
serviceCIDR: 10.96.0.0/16,fd00:10:96::/112
clusterCIDR: [10.244.0.0/16, "fd00:10:244::/56"]
nodeCIDRMaskSize: { ipv4: 25, ipv6: 64 }
nodePortRange: 31000-31999
loadBalancerPool: [192.168.77.200/29]
nodes:
- name: edge
  internalIP: [192.168.77.20, "fd00:77::20"]
  labels: { tier: edge }
  taints: [{ key: dedicated, value: edge, effect: NoSchedule }]
`)
    expect(c.serviceRanges.map((r) => r.family)).toEqual(['IPv4', 'IPv6'])
    expect(c.clusterCIDRs.map((x) => x.nodeMaskSize)).toEqual([25, 64])
    expect(c.nodePortRange).toEqual({ base: 31000, size: 1000 })
    expect(c.nodes[0]).toEqual({ name: 'edge', internalIPs: ['192.168.77.20', 'fd00:77::20'], labels: { tier: 'edge' }, taints: [{ key: 'dedicated', value: 'edge', effect: 'NoSchedule' }] })
  })

  it('names every bad field, the first in the message and the others as details', () => {
    let err: unknown
    try {
      parseClusterConfig('kind: KpeCluster\nserviceCIDR: 10.96.0.0/33\nclusterCIDR: 10.244.0.0/16\nnodeCIDRMaskSize: 12\nnodePortRange: 40000-30000\nextra: 1\nnodes: [{ name: Bad_Name }]\n', 'cluster.yaml')
    } catch (e) { err = e }
    expect(err).toBeInstanceOf(ClusterConfigError)
    const e = err as ClusterConfigError
    expect(e.code).toBe('KPE_INPUT')
    expect(e.message).toMatch(/^cluster.yaml, KpeCluster: extra: unknown field/)
    expect(e.details.join('\n')).toMatch(/serviceCIDR: "10.96.0.0\/33" is not a valid CIDR/)
    expect(e.details.join('\n')).toMatch(/nodeCIDRMaskSize.ipv4: 12 must be between the clusterCIDR prefix \(16\) and 32/)
    expect(e.details.join('\n')).toMatch(/nodePortRange: "40000-30000"/)
    expect(e.details.join('\n')).toMatch(/nodes\[0\]\.name: must be a lowercase RFC 1123 subdomain/)
  })

  it('refuses overlapping service CIDR, cluster CIDR and pool', () => {
    expect(() => parseClusterConfig('serviceCIDR: 10.0.0.0/8\nclusterCIDR: 10.244.0.0/16\nloadBalancerPool: [10.96.0.10-10.96.0.20]\n')).toThrow(/serviceCIDR: 10.0.0.0\/8 overlaps clusterCIDR 10.244.0.0\/16/)
  })

  it('reads the cluster domain, cluster.local by default, and names a bad one', () => {
    expect(defaultClusterConfig().clusterDomain).toBe('cluster.local')
    expect(parseClusterConfig('clusterDomain: corp.internal\n').clusterDomain).toBe('corp.internal')
    expect(() => parseClusterConfig('clusterDomain: Not_A.Domain\n', 'c.yaml')).toThrow(/clusterDomain: must be a lowercase DNS domain/)
  })
})
