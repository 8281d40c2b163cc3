/**
 * `kpe rules --diff` groups changes by the Service port behind each rule: from typed origins for
 * tables kpe built, from kube-proxy's comments for foreign dumps.
 */
import { describe, expect, it } from 'vitest'
import { syntheticCluster } from '../../../bench/synthetic-cluster.js'
import { buildIptablesRules, diffRuleTables, servicePortFromComment, servicePortFromOrigins, type Provenance } from '../../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { parseIptablesSave, renderIptablesRestore } from '../../../src/proxy/netfilter/index.js'

const config = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.244.0.0/16' },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName: 'node-a',
})

/** 101 services of 10 endpoints: above the 1000-endpoint threshold, so SEP rules carry no comment. */
function largeCluster(dropFirstEndpointOfSvc0: boolean) {
  const c = syntheticCluster(101, 10)
  const slices = dropFirstEndpointOfSvc0
    ? c.endpointSlices.map((s, i) => (i === 0 ? { ...s, endpoints: s.endpoints.slice(1) } : s))
    : c.endpointSlices
  const provenance: Provenance = new Map()
  const table = buildIptablesRules({ state: buildProxyState(c.services, slices, 'IPv4', 'node-a'), config, provenance })
  return { table, provenance }
}

describe('diffRuleTables', () => {
  it('attributes a deleted endpoint chain to its Service in large-cluster mode, where SEP rules have no comment', () => {
    const before = largeCluster(false)
    const after = largeCluster(true)
    const diff = diffRuleTables(before.table, after.table, { before: servicePortFromOrigins(before.provenance), after: servicePortFromOrigins(after.provenance) })
    const sepDeleted = diff.flatMap((d) => d.changes.filter((c) => c.text.endsWith('(chain deleted)')).map((c) => ({ service: d.service, chain: c.chain })))
    expect(sepDeleted).toHaveLength(1)
    expect(sepDeleted[0]!.chain).toMatch(/^KUBE-SEP-/)
    // Comment reading called this "(node-wide)": the chain's rules name no Service in large-cluster mode.
    expect(sepDeleted[0]!.service).toBe('bench/svc-0:http')
    expect(diff.map((d) => d.service)).toEqual(['bench/svc-0:http'])
  })

  it('reads the Service port of a dump from its comments (no origins there)', () => {
    const small = syntheticCluster(2, 2)
    const table = (n: number) => buildIptablesRules({ state: buildProxyState(small.services.slice(0, n), small.endpointSlices.slice(0, n), 'IPv4', 'node-a'), config })
    const dump = (n: number) => parseIptablesSave(renderIptablesRestore(table(n)))
    const diff = diffRuleTables(dump(1), dump(2), { before: servicePortFromComment, after: servicePortFromComment })
    expect(diff.map((d) => d.service)).toEqual(['bench/svc-1:http'])
  })
})
