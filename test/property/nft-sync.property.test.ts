/**
 * The nftables live loop's bookkeeping (NftProxierSync) over random sequences of cluster changes,
 * clock steps, full and partial syncs and failed transactions: the table after each sync is a
 * fresh build plus the stale chains; a chain is deleted only once over 1 s stale; and (where a user
 * namespace is available) the kernel, given the transactions in turn, holds exactly that table.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { objectKey, type EndpointSlice, type Service } from '../../src/api/index.js'
import type { IPAddress } from '../../src/net/index.js'
import { resolveProxierConfig, type ProxierConfig } from '../../src/proxy/model/index.js'
import { buildNftablesRules, renderNftablesTransaction, staleChainDelayMs } from '../../src/proxy/nftables/index.js'
import { buildProxyState } from '../../src/proxy/model/index.js'
import { NftProxierSync, type NftNextSync } from '../../src/proxy/proxier/index.js'
import { clusterArb, type ClusterCase } from '../helpers/cluster-arbitrary.js'
import { applyInKernel, eachFreshInKernel, nftNamespaceProblem } from '../helpers/nft-kernel.js'
import { isCI } from '../helpers/root.js'

const config: ProxierConfig = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'nftables', clusterCIDR: '10.0.0.0/8', nodePortAddresses: ['192.168.0.0/16'] },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName: 'node-a',
  extraInterfaceAddresses: ['192.168.0.2' as IPAddress],
  serviceCIDRs: ['172.30.0.0/16'],
})

const stepArb = fc.record({
  cluster: clusterArb(4),
  advanceMs: fc.constantFrom(0, 10, 500, 1001, 2500),
  mode: fc.constantFrom('full', 'partial') as fc.Arbitrary<'full' | 'partial'>,
  fails: fc.boolean(),
})

type Step = { readonly sync: NftNextSync; readonly cluster: ClusterCase }

/** Drives the bookkeeping; returns the applied syncs in order. */
function run(steps: readonly { cluster: ClusterCase; advanceMs: number; mode: 'full' | 'partial'; fails: boolean }[]): Step[] {
  const sync = new NftProxierSync(config)
  let held: ClusterCase = { services: [], endpointSlices: [] }
  let now = 0
  let needFull = true
  const applied: Step[] = []
  const diff = <T extends Service | EndpointSlice>(a: readonly T[], b: readonly T[], changed: (p: T | undefined, c: T | undefined) => void): void => {
    const old = new Map(a.map((o) => [objectKey(o), o]))
    const cur = new Map(b.map((o) => [objectKey(o), o]))
    for (const [k, o] of old) if (!cur.has(k)) changed(o, undefined)
    for (const [k, o] of cur) changed(old.get(k), o)
  }
  const stale = new Map<string, number>()
  for (const s of steps) {
    diff(held.services, s.cluster.services, (p, c) => sync.tracker.serviceChanged(p, c))
    diff(held.endpointSlices, s.cluster.endpointSlices, (p, c) => sync.tracker.sliceChanged(p, c))
    held = s.cluster
    now += s.advanceMs
    const next = sync.nextSync(needFull ? 'full' : s.mode, now)
    for (const c of next.stale.deleted) expect(now - stale.get(c)!).toBeGreaterThan(staleChainDelayMs)
    if (s.fails) {
      sync.failed()
      stale.clear()
      needFull = true
      continue
    }
    sync.applied(next)
    needFull = false
    stale.clear()
    for (const [c, t] of next.stale.stale) stale.set(c, t)
    applied.push({ sync: next, cluster: s.cluster })
  }
  return applied
}

/** The table a sync leaves, without its stale chains, equals a fresh build of the cluster. */
function freshTable(c: ClusterCase): string {
  return renderNftablesTransaction(buildNftablesRules({ state: buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a'), config }))
}

describe('NftProxierSync over random change sequences', () => {
  it('leaves a fresh build plus stale chains, and deletes only aged chains', () => {
    fc.assert(fc.property(fc.array(stepArb, { minLength: 1, maxLength: 6 }), (steps) => {
      for (const { sync, cluster } of run(steps)) {
        const live = { ...sync.ruleset, chains: sync.ruleset.chains.filter((c) => !c.stale) }
        expect(renderNftablesTransaction(live)).toBe(freshTable(cluster))
        for (const c of sync.ruleset.chains.filter((x) => x.stale)) expect(c.rules).toEqual([])
      }
    }), { seed: 1515, numRuns: 150 })
  })

  const problem = nftNamespaceProblem()
  if (problem !== undefined && !isCI) console.warn(`[nft-sync property, kernel] skipped: ${problem}`)
  it.runIf(problem === undefined || isCI)('the kernel, given the transactions in turn, holds each sync\'s table', () => {
    expect(problem).toBeUndefined()
    fc.assert(fc.property(fc.array(stepArb, { minLength: 2, maxLength: 5 }), (steps) => {
      const applied = run(steps)
      if (applied.length === 0) return
      const listed = applyInKernel('ip', applied.map((a) => a.sync.text), applied.map((_, i) => i))
      const wanted = eachFreshInKernel('ip', applied.map((a) => renderNftablesTransaction(a.sync.ruleset)))
      expect(listed).toEqual(wanted)
    }), { seed: 1516, numRuns: 10 })
  }, 120_000)
})
