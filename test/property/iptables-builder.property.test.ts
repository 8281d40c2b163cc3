import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chainName, type IPAddress } from '../../src/net/index.js'
import { buildIptablesRules, computeProbability, isServiceChain } from '../../src/proxy/iptables/index.js'
import { buildProxyState, changedServiceNames, resolveProxierConfig, type ProxierConfig } from '../../src/proxy/model/index.js'
import { renderIptablesRestore } from '../../src/proxy/netfilter/render-iptables.js'
import type { RuleTable } from '../../src/proxy/netfilter/types.js'
import { clusterArb, type ClusterCase } from '../helpers/cluster-arbitrary.js'
import { FakeIptables } from '../helpers/fake-iptables.js'

const config: ProxierConfig = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName: 'node-a',
  extraInterfaceAddresses: ['192.168.0.2' as IPAddress],
})

function render(c: ClusterCase, extra: Partial<Parameters<typeof buildIptablesRules>[0]> = {}): RuleTable {
  return buildIptablesRules({ state: buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a'), config, ...extra })
}

const fixedChains = new Set(['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-FORWARD', 'KUBE-MARK-MASQ', 'KUBE-PROXY-FIREWALL', 'KUBE-FIREWALL'])

function shuffle<T>(list: readonly T[], seed: number): T[] {
  const out = [...list]
  let s = seed
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

describe('iptables builder properties', () => {
  it('output does not depend on the order of the input objects', () => {
    fc.assert(
      fc.property(clusterArb(6), fc.integer(), (c, seed) => {
        const a = renderIptablesRestore(render(c))
        const b = renderIptablesRestore(render({ services: shuffle(c.services, seed), endpointSlices: shuffle(c.endpointSlices, seed + 1) }))
        expect(b).toBe(a)
      }),
      { numRuns: 200 },
    )
  })

  it('every jump targets a declared chain with rules, and every service chain is used (upstream checkConsistency)', () => {
    fc.assert(
      fc.property(clusterArb(6), (c) => {
        for (const t of render(c).tables) {
          const declared = new Map(t.chains.map((ch) => [ch.name as string, ch.rules.length]))
          const jumpedTo = new Set<string>()
          for (const ch of t.chains) {
            for (const r of ch.rules) {
              if (r.target?.kind !== 'jump') continue
              jumpedTo.add(r.target.chain)
              expect(declared.has(r.target.chain), `${t.name} ${ch.name} -> ${r.target.chain}`).toBe(true)
              if (r.target.chain !== 'KUBE-NODEPORTS') expect(declared.get(r.target.chain)).toBeGreaterThan(0)
            }
          }
          for (const name of declared.keys()) if (!fixedChains.has(name)) expect(jumpedTo.has(name), `${name} is never jumped to`).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('chain names are at most 28 characters', () => {
    fc.assert(
      fc.property(clusterArb(6), (c) => {
        for (const t of render(c).tables) for (const ch of t.chains) expect(ch.name.length).toBeLessThanOrEqual(28)
      }),
    )
  })

  it('the statistic ladder gives every endpoint an equal share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), (n) => {
        let remaining = 1
        for (let i = 0; i < n; i++) {
          const p = i < n - 1 ? computeProbability(n - i) : 1
          expect(Math.abs(remaining * p - 1 / n)).toBeLessThan(1e-6)
          remaining *= 1 - p
        }
      }),
    )
  })

  it('the probabilities in rendered service chains give equal shares', () => {
    fc.assert(
      fc.property(clusterArb(6), (c) => {
        const nat = render(c).tables.find((t) => t.name === 'nat')!
        for (const ch of nat.chains.filter((x) => x.name.startsWith('KUBE-SVC-') || x.name.startsWith('KUBE-SVL-'))) {
          const ladder = ch.rules.filter((r) => r.target?.kind === 'jump' && r.target.chain.startsWith('KUBE-SEP-') && !r.matches.some((m) => m.kind === 'recent'))
          let remaining = 1
          for (const r of ladder) {
            const stat = r.matches.find((m) => m.kind === 'statistic-random')
            const p = stat?.kind === 'statistic-random' ? stat.probability : 1
            expect(Math.abs(remaining * p - 1 / ladder.length)).toBeLessThan(1e-6)
            remaining *= 1 - p
          }
        }
      }),
    )
  })

  it('partial syncs applied with --noflush semantics end where one full sync of the final state ends', () => {
    fc.assert(
      fc.property(fc.array(clusterArb(5), { minLength: 2, maxLength: 6 }), (states) => {
        const kernel = new FakeIptables()
        kernel.apply(render(states[0]!))
        for (let i = 1; i < states.length; i++) {
          const changedServices = changedServiceNames(states[i - 1]!, states[i]!)
          const existingNatChains = kernel.chainNames('nat').filter(isServiceChain).map(chainName)
          kernel.apply(render(states[i]!, { sync: { mode: 'partial', changedServices }, existingNatChains }))
        }
        const fresh = new FakeIptables()
        fresh.apply(render(states[states.length - 1]!))
        expect(kernel.snapshot()).toEqual(fresh.snapshot())
      }),
      { numRuns: 200 },
    )
  })
})
