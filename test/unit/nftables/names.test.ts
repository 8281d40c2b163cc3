import { describe, expect, it } from 'vitest'
import { endpointNames, hashAndTruncate, isServiceChainName, servicePortChainNames } from '../../../src/proxy/nftables/index.js'

const svc1 = { namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'TCP' as const }

describe('nftables names', () => {
  it('prefixes the service base with the H8 hash of ns/name/proto/port', () => {
    expect(servicePortChainNames(svc1, 'tcp')).toEqual({
      clusterPolicyChain: 'service-ULMVA6XW-ns1/svc1/tcp/p80',
      localPolicyChain: 'local-ULMVA6XW-ns1/svc1/tcp/p80',
      externalChain: 'external-ULMVA6XW-ns1/svc1/tcp/p80',
      firewallChain: 'firewall-ULMVA6XW-ns1/svc1/tcp/p80',
    })
  })

  it('names endpoint chains and affinity sets after the endpoint', () => {
    expect(endpointNames(svc1, 'tcp', '10.0.1.1', 80)).toEqual({
      chain: 'endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80',
      affinitySet: 'affinity-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80',
    })
  })

  it('replaces IPv6 colons with dots', () => {
    expect(endpointNames(svc1, 'tcp', 'fd00:10::1', 80).chain).toMatch(/^endpoint-[A-Z2-7]{8}-ns1\/svc1\/tcp\/p80__fd00\.10\.\.1\/80$/)
  })

  it('cuts names longer than 240 characters to 237 plus ...', () => {
    const long = 'x'.repeat(300)
    const h = hashAndTruncate(long)
    expect(h).toHaveLength(240)
    expect(h.endsWith('...')).toBe(true)
    expect(hashAndTruncate('y'.repeat(231))).toHaveLength(240)
    expect(hashAndTruncate('y'.repeat(232))).toHaveLength(240)
    expect(hashAndTruncate('y'.repeat(232)).endsWith('...')).toBe(true)
  })

  it('tells service chains (with a slash) from fixed chains', () => {
    expect(isServiceChainName('service-ULMVA6XW-ns1/svc1/tcp/p80')).toBe(true)
    expect(isServiceChainName('services')).toBe(false)
  })
})
