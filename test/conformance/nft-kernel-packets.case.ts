/**
 * The nftables kernel answering upstream's nftables packet-flow vectors
 * (../shared/kube-proxy-golden-nft/flows) with real packets: kpe's rules for each case loaded
 * with `nft -f` (NftKernelExecutor, the lab's executor), every row sent through the kernel
 * (nft-kernel-flows.ts); `output` and `masq` must match upstream's.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { fullSyncTransaction, NftKernelExecutor } from '../../src/lab/index.js'
import { buildProxyState, clusterObjects } from '../../src/proxy/model/index.js'
import { summarizeLikeUpstream } from '../../src/proxy/netfilter/index.js'
import { compileNft, exploreNft } from '../../src/proxy/netfilter/nft/index.js'
import { buildNftablesRules, renderNftablesTransaction } from '../../src/proxy/nftables/index.js'
import { clusterArb, type ClusterCase } from '../helpers/cluster-arbitrary.js'
import { fixtureNames, loadFixture } from '../helpers/fixtures.js'
import { nodeIP, oracleConfig, probes, type Probe } from './nft-packet-flow.case.js'
import { listFlowCases, loadFlowCaseIn, type FlowCase, type FlowRow } from '../helpers/flows.js'
import { nftDocumentOfText, nftFlowsDir, nftRulesText } from '../helpers/nft-flows.js'
import { goldenNftDir, hasShared } from '../helpers/shared.js'
import { NftKernelFlowNode, type KernelFlowAnswer } from './nft-kernel-flows.js'

/** kpe's rules for one case as a full sync on a fresh node: the table created, flushed, written. */
function nftCaseTransaction(c: FlowCase): string {
  const text = nftRulesText(c)
  const table = text.split('\n', 1)[0]!.replace(/ \{.*$/, '').replace(/^add table /, '')
  return `add table ${table}\nflush table ${table}\n${text}`
}

/** Rows the kernel cannot answer here, with the reason. */
function kernelSkip(c: FlowCase, row: FlowRow): string | undefined {
  if (row.protocol === 'SCTP') return 'Node.js has no SCTP sockets to send from'
  if (row.sourceIP.includes(':') && c.localIPs.includes(row.sourceIP)) return "an IPv6 packet from the node's own address cannot be sent from outside it (see nft-kernel-flows.ts)"
  return undefined
}

export function describeAnswer(a: KernelFlowAnswer): string {
  return `output {${[...a.outputs].map((o) => JSON.stringify(o)).join(', ')}} masq ${a.masq === undefined ? 'unobservable' : a.masq} (${a.attempts} packets)`
}

/** Problems with the kernel's answer for a row (empty: it matches). */
export function compareKernelAnswer(row: FlowRow, a: KernelFlowAnswer): string[] {
  const want = new Set(row.output === '' ? [''] : row.output.split(', '))
  const problems: string[] = []
  const same = want.size === a.outputs.size && [...want].every((w) => a.outputs.has(w))
  if (!same) problems.push(`output: upstream ${JSON.stringify(row.output)}, kernel ${describeAnswer(a)}`)
  if (a.masq !== undefined && a.masq !== row.masq) problems.push(`masq: upstream ${row.masq}, kernel ${describeAnswer(a)}`)
  return problems
}

/** Loads a case's rules into a fresh node and sends every row's packets. */
interface CaseAnswers {
  readonly rows: Map<FlowRow, KernelFlowAnswer>
}

async function answerCase(c: FlowCase): Promise<CaseAnswers> {
  const transaction = nftCaseTransaction(c)
  const node = await NftKernelFlowNode.open(c.localIPs, [...new Set(c.rows.filter((r) => kernelSkip(c, r) === undefined).map((r) => r.sourceIP))])
  try {
    await new NftKernelExecutor({ run: node.run }).apply(transaction)
    const out = new Map<FlowRow, KernelFlowAnswer>()
    // Enough packets that every endpoint of a numgen spread shows up (3 endpoints: a miss ~1e-7).
    for (const row of c.rows) if (kernelSkip(c, row) === undefined) out.set(row, await node.answer(row, 40))
    return { rows: out }
  } finally {
    await node.close()
  }
}

export function nftKernelPacketSuite(o: { readonly name: string; readonly skip?: string }): void {
  if (o.skip !== undefined) {
    console.info(`[conformance] ${o.name}: skipped (${o.skip})`)
    describe.skip(`${o.name} (skipped: ${o.skip})`, () => {
      it('upstream nftables packet-flow vectors', () => {})
    })
    return
  }
  console.info(`[conformance] ${o.name}: runs`)
  describe.runIf(hasShared(goldenNftDir))(`${o.name}: upstream nftables packet-flow vectors`, () => {
    const cases = hasShared(goldenNftDir) ? listFlowCases(nftFlowsDir()).map((n) => loadFlowCaseIn(nftFlowsDir(), n)) : []

    it('has 29 cases and 193 rows', () => {
      expect(cases).toHaveLength(29)
      expect(cases.reduce((n, c) => n + c.rows.length, 0)).toBe(193)
    })

    // Every case in its own pair of namespaces, six at a time; rows of a case one after another
    // (the ICMP counter that tells REJECT from DROP is per node).
    const answers = new Map<FlowCase, CaseAnswers>()
    beforeAll(async () => {
      const queue = [...cases]
      const worker = async (): Promise<void> => {
        for (let c = queue.shift(); c; c = queue.shift()) answers.set(c, await answerCase(c))
      }
      await Promise.all(Array.from({ length: 6 }, worker))
    }, 300_000)

    it('the kernel answered every row but the reasoned skips', () => {
      const answered = [...answers.values()].reduce((n, a) => n + a.rows.size, 0)
      const skipped = cases.flatMap((c) => c.rows.filter((r) => kernelSkip(c, r) !== undefined).map((r) => `${c.name} / ${r.name}`))
      console.info(`[conformance] ${o.name}: ${answered} rows answered by the kernel, ${skipped.length} skipped`)
      expect(answered + skipped.length).toBe(193)
      // The SCTP rows and the IPv6 rows sent from the node's own address.
      expect(skipped.length).toBeLessThanOrEqual(15)
    })

    describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      it.each(c.rows.map((r) => [r.name, r] as const))('%s', (_row, row) => {
        const answered = answers.get(c)!
        const skip = kernelSkip(c, row)
        if (skip !== undefined) {
          console.info(`[conformance] ${o.name}: ${c.name} / ${row.name}: skipped (${skip})`)
          return
        }
        expect(compareKernelAnswer(row, answered.rows.get(row)!)).toEqual([])
      })
    })
  })
}

/** Whether the Service port a probe reaches has ClientIP session affinity. */
function affinityOf(c: ClusterCase, p: Probe): boolean {
  const svc = c.services.find((s) => (s.spec?.ports ?? []).some((sp) => {
    const addresses = [s.spec?.clusterIP, ...(s.spec?.externalIPs ?? []), ...(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)]
    return (sp.port === p.dport && addresses.includes(p.dst)) || (sp.nodePort === p.dport && p.dst === nodeIP)
  }))
  return svc?.spec?.sessionAffinity === 'ClientIP'
}

/**
 * The random-cluster oracle, nft interpreter against the kernel: on seeded random clusters
 * (fast-check), kpe's nftables rules go into one kernel node as full-sync transactions, and
 * every probe (each Service port's ClusterIP, external IPs, LB IPs and NodePort, from a pod
 * address, an outside address and the node's own) gets the interpreter's answer and the
 * kernel's real-packet answer, which must be the same. The kernel sees every probe arrive
 * through prerouting, so the interpreter explores them as arriving packets too.
 */
export function nftKernelRandomOracleSuite(o: { readonly name: string; readonly clusters: number; readonly skip?: string }): void {
  if (o.skip !== undefined) {
    describe.skip(`${o.name} (skipped: ${o.skip})`, () => {
      it('random clusters', () => {})
    })
    return
  }
  /** Loads one cluster's rules into the node and compares every probe; throws what the kernel refuses. */
  async function probeCluster(node: NftKernelFlowNode, executor: NftKernelExecutor, label: string, c: ClusterCase): Promise<{ probed: number; problems: string[] }> {
    const ruleset = buildNftablesRules({ state: buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a'), config: oracleConfig('nftables') })
    const transaction = fullSyncTransaction(ruleset)
    try {
      await executor.apply(transaction)
    } catch (err) {
      const line = /stdin:(\d+):/.exec(err instanceof Error ? err.message : '')?.[1]
      throw new Error(`${label}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}${line ? `\n  line ${line}: ${transaction.split('\n')[Number(line) - 1]}` : ''}`, { cause: err })
    }
    const prog = compileNft(nftDocumentOfText(renderNftablesTransaction(ruleset)))
    const problems: string[] = []
    let probed = 0
    for (const p of probes(c)) {
      // Node.js cannot send SCTP; the 198.51.100.9 source adds nothing 203.0.113.7 does not here.
      if (p.proto === 'sctp' || p.src === '198.51.100.9') continue
      const want = summarizeLikeUpstream(exploreNft(prog, { src: p.src, dst: p.dst, dport: p.dport, proto: p.proto }, { localAddresses: new Set([nodeIP]) }, { origin: 'external' }).outcomes)
      const row: FlowRow = { name: `${label}: ${p.src} -> ${p.dst}:${p.dport}/${p.proto}`, sourceIP: p.src, destIP: p.dst, destPort: p.dport, protocol: p.proto.toUpperCase() as 'TCP' | 'UDP', output: want.output, masq: want.masq }
      probed++
      // Enough packets that each of k equally likely endpoints shows up (k = 4: a miss ~4e-6).
      const answer = await node.answer(row, Math.max(8, 12 * want.output.split(', ').length))
      // ClientIP affinity: the kernel pins this client to one of the endpoints the interpreter allows.
      const pinned = affinityOf(c, p) && answer.outputs.size === 1 && want.output.split(', ').includes([...answer.outputs][0]!)
      const found = compareKernelAnswer(row, answer).filter((x) => !(pinned && x.startsWith('output:')))
      problems.push(...found.map((x) => `${row.name}: ${x.replace('upstream', 'interpreter')}`))
    }
    return { probed, problems }
  }

  describe(o.name, () => {
    it(`${o.clusters} random clusters, seed 21: the kernel answers every probe as the nft interpreter does`, async () => {
      const clusters = fc.sample(clusterArb(4), { seed: 21, numRuns: o.clusters })
      const node = await NftKernelFlowNode.open([nodeIP], ['10.1.2.3', '203.0.113.7', nodeIP])
      const problems: string[] = []
      let probed = 0
      try {
        const executor = new NftKernelExecutor({ run: node.run })
        // one node for all clusters: each full sync must replace the previous cluster's table
        // entirely (a kept map element used to make the kernel refuse the next transaction)
        for (const [i, c] of clusters.entries()) {
          const r = await probeCluster(node, executor, `cluster ${i}`, c)
          probed += r.probed
          problems.push(...r.problems)
        }
      } finally {
        await node.close()
      }
      console.info(`[conformance] ${o.name}: ${probed} probes on ${clusters.length} clusters`)
      expect(probed).toBeGreaterThan(3 * o.clusters)
      expect(problems).toEqual([])
    }, 600_000)

    it('every fixture (its IPv4 Services, as node-a): the kernel answers every probe as the nft interpreter does', async () => {
      const node = await NftKernelFlowNode.open([nodeIP], ['10.1.2.3', '203.0.113.7', nodeIP])
      const problems: string[] = []
      let probed = 0
      try {
        const executor = new NftKernelExecutor({ run: node.run })
        // fixtures are valid clusters: a transaction the kernel refuses fails the test
        for (const name of fixtureNames()) {
          const { services, endpointSlices } = clusterObjects(loadFixture(name))
          const r = await probeCluster(node, executor, `fixture ${name}`, { services: [...services], endpointSlices: [...endpointSlices] })
          probed += r.probed
          problems.push(...r.problems)
        }
      } finally {
        await node.close()
      }
      console.info(`[conformance] ${o.name}: ${probed} probes on ${fixtureNames().length} fixtures`)
      expect(probed).toBeGreaterThan(fixtureNames().length)
      expect(problems).toEqual([])
    }, 600_000)
  })
}
