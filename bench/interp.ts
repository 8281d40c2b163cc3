/**
 * Interpreter benchmarks: the sample-mode verdict for a new connection to a random Service, at
 * 10,000 and at 10 services, over rules built by buildIptablesRules, seen as a host would show
 * them (savedView) and compiled once, as the userspace dataplane does after each apply; and the
 * same for nftables mode (buildNftablesRules, as `nft -f` text parsed back, compiled once).
 */
import { buildIptablesRules, savedView } from '../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig, type ProxierConfig } from '../src/proxy/model/index.js'
import { compile, compileNft, createInterpreterState, createNftSetState, nftDocumentOf, parseNft, sample, sampleNft, seededRandom, type CompiledRules, type NftProgram, type NodeContext, type Packet } from '../src/proxy/netfilter/index.js'
import { buildNftablesRules, renderNftablesTransaction } from '../src/proxy/nftables/index.js'
import { figure, median, type Figure } from './figures.js'
import { syntheticCluster } from './synthetic-cluster.js'

const config: ProxierConfig = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.244.0.0/16' },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName: 'node-a',
})


interface VerdictCase {
  readonly rules: CompiledRules
  readonly nft: NftProgram
  readonly packets: readonly Packet[]
}

function verdictCase(services: number, packets: number): VerdictCase {
  const c = syntheticCluster(services, 10)
  const state = buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a')
  const rules = compile(savedView(buildIptablesRules({ state, config })))
  const nft = compileNft(nftDocumentOf(parseNft(renderNftablesTransaction(buildNftablesRules({ state, config })))))
  const rnd = seededRandom(services)
  const list: Packet[] = []
  for (let i = 0; i < packets; i++) {
    const svc = c.services[Math.floor(rnd.next() * services)]!
    // A pod on another node opening a new connection to the ClusterIP: the PREROUTING path.
    list.push({ src: '10.244.7.9', sport: 40000 + (i % 20000), dst: svc.spec.clusterIP!, dport: 80, proto: 'tcp' })
  }
  return { rules, nft, packets: list }
}

const ctx: NodeContext = { localAddresses: new Set(['192.168.0.10', '127.0.0.1']) }
const clock = { now: () => 1_000_000 }

/** ns per verdict over the whole packet list; checks every verdict is a DNAT so nothing is skipped. */
function timeLoop(what: string, packets: readonly Packet[], verdictOf: (p: Packet) => string): number {
  let dnat = 0
  const t = process.hrtime.bigint()
  for (const p of packets) if (verdictOf(p) === 'dnat') dnat++
  const ns = Number(process.hrtime.bigint() - t) / packets.length
  if (dnat !== packets.length) throw new Error(`${what} bench: ${packets.length - dnat} packets got no DNAT verdict`)
  return ns
}

function timeVerdicts(v: VerdictCase, seed: number): number {
  const opts = { origin: 'external' as const, state: createInterpreterState(), random: seededRandom(seed), clock }
  return timeLoop('interp', v.packets, (p) => sample(v.rules, p, ctx, opts).verdict.kind)
}

/** The same in nftables mode, through the nft interpreter. */
function timeNftVerdicts(v: VerdictCase, seed: number): number {
  const opts = { origin: 'external' as const, state: createNftSetState(), random: seededRandom(seed), clock }
  return timeLoop('interp nft', v.packets, (p) => sampleNft(v.nft, p, ctx, opts).verdict.kind)
}

export function interpBenchmarks(opts: { rounds: number; quick: boolean }): Figure[] {
  const n = opts.quick ? 20_000 : 100_000
  const big = verdictCase(10_000, n)
  const small = verdictCase(10, n)
  // Warm up both cases so the JIT has settled on the same code for either size.
  timeVerdicts(big, 1)
  timeVerdicts(small, 1)
  timeNftVerdicts(big, 1)
  timeNftVerdicts(small, 1)
  const bigNs: number[] = []
  const smallNs: number[] = []
  const nftBigNs: number[] = []
  const nftSmallNs: number[] = []
  // Alternating, so both modes see the same machine load.
  for (let r = 0; r < Math.max(opts.rounds, 5); r++) {
    bigNs.push(timeVerdicts(big, r + 2))
    smallNs.push(timeVerdicts(small, r + 2))
    nftBigNs.push(timeNftVerdicts(big, r + 2))
    nftSmallNs.push(timeNftVerdicts(small, r + 2))
  }
  const b = median(bigNs)
  const s = median(smallNs)
  const nb = median(nftBigNs)
  const ns = median(nftSmallNs)
  return [
    figure('interp.verdict.10k.ns', b, 'ns', null, { goal: '<= 2000 ns', note: `sample mode, ${n} new connections to random ClusterIPs` }),
    figure('interp.verdict.10k_over_10', b, 'ratio', s, { goal: '<= 1.5', note: `10 services: ${s.toFixed(0)} ns` }),
    figure('interp.nft.verdict.10k.ns', nb, 'ns', null, { goal: '<= 2000 ns', note: `nftables mode, sample mode, ${n} new connections to random ClusterIPs` }),
    figure('interp.nft.verdict.10k_over_10', nb, 'ratio', ns, { goal: '<= 1.5', note: `10 services: ${ns.toFixed(0)} ns` }),
  ]
}
