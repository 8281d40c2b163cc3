/**
 * The nftables kernel answering upstream's nftables packet-flow vectors
 * (../shared/kube-proxy-golden-nft/flows) with real packets: kpe's rules for each case loaded
 * with `nft -f` (NftKernelExecutor, the lab's executor), every row sent through the kernel
 * (nft-kernel-flows.ts); `output` and `masq` must match upstream's.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { NftKernelExecutor } from '../../src/lab/index.js'
import { listFlowCases, loadFlowCaseIn, type FlowCase, type FlowRow } from '../helpers/flows.js'
import { nftFlowsDir, nftRulesText } from '../helpers/nft-flows.js'
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
