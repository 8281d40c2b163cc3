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


type Mode = 'iptables' | 'nftables'

/** One mode's compiled rules for a cluster, and the packets to judge. */
interface VerdictCase {
  readonly verdictOf: (seed: number) => (p: Packet) => string
  readonly packets: readonly Packet[]
}

function verdictCase(mode: Mode, services: number, packets: number): VerdictCase {
  const c = syntheticCluster(services, 10)
  const state = buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a')
  const rnd = seededRandom(services)
  const list: Packet[] = []
  for (let i = 0; i < packets; i++) {
    const svc = c.services[Math.floor(rnd.next() * services)]!
    // A pod on another node opening a new connection to the ClusterIP: the PREROUTING path.
    list.push({ src: '10.244.7.9', sport: 40000 + (i % 20000), dst: svc.spec.clusterIP!, dport: 80, proto: 'tcp' })
  }
  return { packets: list, verdictOf: mode === 'iptables' ? iptablesVerdicts(state) : nftVerdicts(state) }
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

/** A verdict function per round (fresh interpreter state and random source), over iptables rules. */
function iptablesVerdicts(state: ReturnType<typeof buildProxyState>): VerdictCase['verdictOf'] {
  const rules: CompiledRules = compile(savedView(buildIptablesRules({ state, config })))
  return (seed) => {
    const opts = { origin: 'external' as const, state: createInterpreterState(), random: seededRandom(seed), clock }
    return (p) => sample(rules, p, ctx, opts).verdict.kind
  }
}

/** The same in nftables mode: the `nft -f` text parsed back and compiled, through the nft interpreter. */
function nftVerdicts(state: ReturnType<typeof buildProxyState>): VerdictCase['verdictOf'] {
  const program: NftProgram = compileNft(nftDocumentOf(parseNft(renderNftablesTransaction(buildNftablesRules({ state, config })))))
  return (seed) => {
    const opts = { origin: 'external' as const, state: createNftSetState(), random: seededRandom(seed), clock }
    return (p) => sampleNft(program, p, ctx, opts).verdict.kind
  }
}

/**
 * Median ns per verdict at 10,000 and at 10 services in one mode, the two sizes alternating. Each
 * mode runs alone with only its own compiled rules alive: a node has one mode, and the 10,000-Service
 * nft program (about 0.7 GB) held beside the iptables rules made the iptables loop's collections
 * slower.
 */
function modeVerdicts(mode: Mode, n: number, rounds: number): { big: number; small: number } {
  const big = verdictCase(mode, 10_000, n)
  const small = verdictCase(mode, 10, n)
  const time = (v: VerdictCase, seed: number): number => timeLoop(`interp ${mode}`, v.packets, v.verdictOf(seed))
  // Warm up both sizes so the JIT has settled on the same code for either.
  time(big, 1)
  time(small, 1)
  const bigNs: number[] = []
  const smallNs: number[] = []
  for (let r = 0; r < Math.max(rounds, 5); r++) {
    bigNs.push(time(big, r + 2))
    smallNs.push(time(small, r + 2))
  }
  return { big: median(bigNs), small: median(smallNs) }
}

export function interpBenchmarks(opts: { rounds: number; quick: boolean }): Figure[] {
  const n = opts.quick ? 20_000 : 100_000
  const ipt = modeVerdicts('iptables', n, opts.rounds)
  globalThis.gc?.()
  const nft = modeVerdicts('nftables', n, opts.rounds)
  return [
    figure('interp.verdict.10k.ns', ipt.big, 'ns', null, { goal: '<= 2000 ns', note: `sample mode, ${n} new connections to random ClusterIPs` }),
    figure('interp.verdict.10k_over_10', ipt.big, 'ratio', ipt.small, { goal: '<= 1.5', note: `10 services: ${ipt.small.toFixed(0)} ns` }),
    figure('interp.nft.verdict.10k.ns', nft.big, 'ns', null, { goal: '<= 2000 ns', note: `nftables mode, sample mode, ${n} new connections to random ClusterIPs` }),
    figure('interp.nft.verdict.10k_over_10', nft.big, 'ratio', nft.small, { goal: '<= 1.5', note: `10 services: ${nft.small.toFixed(0)} ns` }),
  ]
}
