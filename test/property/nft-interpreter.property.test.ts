/**
 * The nft interpreter's two modes agree on random clusters: every outcome sample mode draws is
 * one explore mode lists (same verdict, masquerade and route), and explore's probabilities sum
 * to 1. Seeded and bounded.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { IPAddress, L4Proto } from '../../src/net/index.js'
import { buildProxyState, resolveProxierConfig } from '../../src/proxy/model/index.js'
import { compileNft, createNftSetState, exploreNft, nftDocumentOf, parseNft, sampleNft, seededRandom } from '../../src/proxy/netfilter/index.js'
import { buildNftablesRules, renderNftablesTransaction } from '../../src/proxy/nftables/index.js'
import { clusterArb } from '../helpers/cluster-arbitrary.js'

const config = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8', mode: 'nftables' },
  ipFamily: 'IPv4', node: undefined, nodeName: 'node-a', extraInterfaceAddresses: ['192.168.0.2' as IPAddress],
})
const ctx = { localAddresses: new Set(['192.168.0.2']) }
const key = (o: { verdict: unknown; masquerade: boolean; route?: string }): string => JSON.stringify([o.verdict, o.masquerade, o.route ?? null])

describe('nft interpreter: sample mode draws only what explore mode lists', () => {
  it('40 random clusters, seed 15', () => {
    fc.assert(
      fc.property(clusterArb(5), fc.constantFrom('10.1.2.3', '203.0.113.7', '192.168.0.2'), (c, src) => {
        const prog = compileNft(nftDocumentOf(parseNft(renderNftablesTransaction(buildNftablesRules({ state: buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a'), config })))))
        const origin = src === '192.168.0.2' ? 'local' as const : 'external' as const
        for (const s of c.services) {
          for (const p of s.spec?.ports ?? []) {
            if (!s.spec?.clusterIP) continue
            const packet = { src, dst: s.spec.clusterIP, dport: p.port, proto: (p.protocol ?? 'TCP').toLowerCase() as L4Proto }
            const ex = exploreNft(prog, packet, ctx, { origin })
            expect(ex.outcomes.reduce((n, o) => n + o.probability, 0)).toBeCloseTo(1, 9)
            const listed = new Set(ex.outcomes.map(key))
            const random = seededRandom(p.port)
            for (let i = 0; i < 5; i++) {
              const o = sampleNft(prog, packet, ctx, { origin, state: createNftSetState(), random, clock: { now: () => 0 } })
              expect(listed.has(key(o)), `${JSON.stringify(packet)}: sampled ${key(o)} not in ${[...listed].join(' | ')}`).toBe(true)
            }
          }
        }
      }),
      { seed: 15, numRuns: 40 },
    )
  }, 60_000)
})
