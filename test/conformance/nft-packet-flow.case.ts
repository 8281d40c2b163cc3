/**
 * The nftables rows of the conformance suite: every nftables executor (the nft interpreter; the
 * kernel in a namespace when the kernel package wires it) loads kpe's rules for each upstream
 * nftables flow case (../shared/kube-proxy-golden-nft/flows) as a full-sync transaction, and
 * what it then holds is parsed back and traced with upstream's tracer semantics and with the
 * real nftables semantics of the nft interpreter. Then the random-cluster oracle: on random
 * clusters the nft interpreter must give the iptables interpreter's answers where the two
 * modes must agree.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import type { IPAddress } from '../../src/net/index.js'
import { buildIptablesRules, savedView } from '../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig, type ProxierConfig } from '../../src/proxy/model/index.js'
import { explore, summarizeLikeUpstream, type NftRuleExecutor, type Origin } from '../../src/proxy/netfilter/index.js'
import { compileNft, exploreNft, type NftDocument, type NftProgram } from '../../src/proxy/netfilter/nft/index.js'
import { buildNftablesRules, renderNftablesTransaction } from '../../src/proxy/nftables/index.js'
import type { L4Proto } from '../../src/net/index.js'
import { clusterArb, type ClusterCase } from '../helpers/cluster-arbitrary.js'
import { listFlowCases, loadFlowCaseIn, type FlowCase } from '../helpers/flows.js'
import { formatNftFlowFailure, nftDocumentOfText, nftFlowsDir, nftRulesText, runNftFlowRow } from '../helpers/nft-flows.js'
import { goldenNftDir, hasShared } from '../helpers/shared.js'

export interface NftConformanceExecutor {
  readonly executor: NftRuleExecutor
  /** What the node holds now, as nft text (`nft list table` output or `add …` lines). */
  held(): Promise<string>
  close(): Promise<void>
}

export interface NftPacketFlowSuiteOptions {
  readonly name: string
  readonly newExecutor: () => Promise<NftConformanceExecutor>
  /** Why this executor does not run here; every skip must give one. */
  readonly skip?: string
}

/** A full sync on a fresh node, as one transaction (the table is created, flushed, written). */
function fullSync(text: string): string {
  const first = text.split('\n', 1)[0]!.replace(/ \{.*$/, '')
  return `${first}\n${first.replace(/^add table/, 'flush table')}\n${text}`
}

export function nftPacketFlowSuite(o: NftPacketFlowSuiteOptions): void {
  if (o.skip !== undefined) {
    console.info(`[conformance] ${o.name}: skipped (${o.skip})`)
    describe.skip(`${o.name} (skipped: ${o.skip})`, () => {
      it('upstream nftables packet-flow vectors', () => {})
    })
    return
  }
  console.info(`[conformance] ${o.name}: runs`)
  describe(o.name, () => {
    describe.runIf(hasShared(goldenNftDir))('upstream nftables packet-flow vectors', () => {
      const cases: FlowCase[] = hasShared(goldenNftDir) ? listFlowCases(nftFlowsDir()).map((n) => loadFlowCaseIn(nftFlowsDir(), n)) : []
      it('has 29 cases and 193 rows', () => {
        expect(cases).toHaveLength(29)
        expect(cases.reduce((n, c) => n + c.rows.length, 0)).toBe(193)
      })

      describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
        let doc: NftDocument
        let prog: NftProgram
        beforeAll(async () => {
          const ex = await o.newExecutor()
          try {
            await ex.executor.apply(fullSync(nftRulesText(c)))
            doc = nftDocumentOfText(await ex.held(), `${o.name} (held)`)
            prog = compileNft(doc)
          } finally {
            await ex.close()
          }
        })

        it.each(c.rows.map((r) => [r.name, r] as const))('%s', (_row, row) => {
          const r = runNftFlowRow(doc, prog, row, c.localIPs)
          expect(r.realOk, formatNftFlowFailure(r)).toBe(true)
          expect(r.upstreamOk, formatNftFlowFailure(r)).toBe(true)
          expect(r.real.unmodelled).toEqual([])
        })
      })
    })
  })
}

// ---- the random-cluster oracle: nftables mode against iptables mode ----

export const nodeIP = '192.168.0.2'
export const oracleConfig = (mode: 'iptables' | 'nftables'): ProxierConfig => resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8', mode, nodePortAddresses: [`${nodeIP}/32`] },
  ipFamily: 'IPv4', node: undefined, nodeName: 'node-a', extraInterfaceAddresses: [nodeIP as IPAddress],
})

export interface Probe {
  readonly src: string
  readonly dst: string
  readonly dport: number
  readonly proto: L4Proto
  readonly origin: Origin
}

/** Every address and port a Service of the cluster serves, from a pod, from outside and from the node. */
export function probes(c: ClusterCase): Probe[] {
  const out: Probe[] = []
  const sources: [string, Origin][] = [['10.1.2.3', 'external'], ['203.0.113.7', 'external'], ['198.51.100.9', 'external'], [nodeIP, 'local']]
  for (const s of c.services) {
    for (const p of s.spec?.ports ?? []) {
      const proto = (p.protocol ?? 'TCP').toLowerCase() as L4Proto
      const dsts: [string, number][] = [
        ...(s.spec?.clusterIP ? [[s.spec.clusterIP, p.port] as [string, number]] : []),
        ...(s.spec?.externalIPs ?? []).map((ip): [string, number] => [ip, p.port]),
        ...(s.status?.loadBalancer?.ingress ?? []).flatMap((i): [string, number][] => (i.ip ? [[i.ip, p.port]] : [])),
        ...(p.nodePort ? [[nodeIP, p.nodePort] as [string, number]] : []),
      ]
      // a headless Service has no address to probe; the oracle's sources are IPv4
      for (const [dst, dport] of dsts) {
        if (dst === 'None' || dst.includes(':')) continue
        for (const [src, origin] of sources) out.push({ src, dst, dport, proto, origin })
      }
    }
  }
  return out
}

export interface ModeDisagreement {
  readonly probe: Probe
  readonly iptables: { output: string; masq: boolean }
  readonly nftables: { output: string; masq: boolean }
}

/**
 * Where the two modes must agree on a cluster: every probe whose answers differ. iptables and
 * nftables are built from the same model with the same config (nodePortAddresses pinned to the
 * node IP: the modes' defaults differ, docs/differences.md).
 */
export function compareModes(c: ClusterCase): ModeDisagreement[] {
  const state = buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a')
  const ipt = savedView(buildIptablesRules({ state, config: oracleConfig('iptables') }))
  const prog = compileNft(nftDocumentOfText(renderNftablesTransaction(buildNftablesRules({ state, config: oracleConfig('nftables') }))))
  const ctx = { localAddresses: new Set([nodeIP]) }
  const out: ModeDisagreement[] = []
  for (const p of probes(c)) {
    const packet = { src: p.src, dst: p.dst, dport: p.dport, proto: p.proto }
    const a = summarizeLikeUpstream(explore(ipt, packet, ctx, { origin: p.origin }).outcomes)
    const b = summarizeLikeUpstream(exploreNft(prog, packet, ctx, { origin: p.origin }).outcomes)
    if (a.output !== b.output || a.masq !== b.masq) out.push({ probe: p, iptables: a, nftables: b })
  }
  return out
}

/**
 * The modes' known, upstream-faithful differences (docs/differences.md), or undefined when a
 * disagreement is a bug. Each is keyed on the probe's role, never on a cluster's shape.
 */
export function modeDifferenceReason(c: ClusterCase, d: ModeDisagreement): string | undefined {
  const external = c.services.some((s) => (s.spec?.externalIPs ?? []).includes(d.probe.dst) || (s.status?.loadBalancer?.ingress ?? []).some((i) => i.ip === d.probe.dst))
  if (!external) return undefined
  // nftables hooks service-endpoints-check into filter-output; iptables' KUBE-EXTERNAL-SERVICES
  // sits in INPUT and FORWARD only, so the node's own packets to an external IP are not rejected
  // (no endpoints) or dropped (Local policy without local endpoints) there.
  if (d.probe.origin === 'local' && d.iptables.output === '' && (d.nftables.output === 'REJECT' || d.nftables.output === 'DROP') && d.iptables.masq === d.nftables.masq) {
    return 'node to an external IP without (local) endpoints: rejected or dropped by nftables filter-output only'
  }
  // nftables' firewall-check runs in prerouting for every LB IP with source ranges, before the
  // endpoint checks; iptables reaches its firewall chain only through a service with endpoints.
  if (d.iptables.output === 'REJECT' && d.nftables.output === 'DROP') return 'LB IP with source ranges, no endpoints, source outside the ranges: nftables drops before it rejects'
  return undefined
}

export function nftModeOracleSuite(o: { readonly clusters: number }): void {
  describe('nftables interpreter against the iptables interpreter on random clusters', () => {
    it(`${o.clusters} clusters, seed 15: both modes give every probe the same answer`, () => {
      const clusters = fc.sample(clusterArb(5), { seed: 15, numRuns: o.clusters })
      // The probes must reach real answers, or agreement means nothing.
      const answered = clusters.flatMap((c) => probes(c)).length
      expect(answered).toBeGreaterThan(30 * o.clusters)
      const problems = clusters.flatMap((c, i) => compareModes(c).filter((d) => modeDifferenceReason(c, d) === undefined).map((d) => `cluster ${i}: ${JSON.stringify(d)}`))
      expect(problems.slice(0, 10)).toEqual([])
    }, 120_000)
  })
}
