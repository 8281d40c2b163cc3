/**
 * Upstream's packet-flow vectors (../shared/kube-proxy-golden/flows): rules built by kpe from
 * each case's input.yaml and config.yaml (trace-packet: its own dump), traced with upstream's
 * tracer semantics and with the real netfilter semantics of kpe's interpreter in explore mode;
 * then the same rows and the random-cluster oracle through every executor (packet-flow.case.ts).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'
import { InterpreterExecutor, parseIptablesSave, renderRuleArgs } from '../../src/proxy/netfilter/index.js'
import { formatFlowFailure, listFlowCases, loadFlowCase, runFlowRow, withKubeProxyJumps } from '../helpers/flows.js'
import { rulesFromText } from '../helpers/rules.js'
import { hasShared } from '../helpers/shared.js'
import { kernelUnavailable, newKernelExecutor, newNftKernelExecutor, nftKernelUnavailable } from './kernel-namespace.js'
import { nftKernelPacketSuite, nftKernelRandomOracleSuite } from './nft-kernel-packets.case.js'
import { packetFlowSuite } from './packet-flow.case.js'
import { nftModeOracleSuite, nftPacketFlowSuite } from './nft-packet-flow.case.js'
import { NftInterpreterExecutor } from '../../src/proxy/netfilter/nft/index.js'

interface ChainCheck {
  readonly table: 'filter' | 'nat'
  readonly chain: string
  readonly rules: readonly string[]
}

describe.runIf(hasShared())('upstream packet-flow vectors', () => {
  const cases = hasShared() ? listFlowCases().map((n) => loadFlowCase(n)) : []

  it('has 35 cases and 232 rows', () => {
    expect(cases).toHaveLength(35)
    expect(cases.reduce((n, c) => n + c.rows.length, 0)).toBe(232)
  })

  describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const table = c.iptables !== undefined
      ? parseIptablesSave(c.iptables, { source: 'input.iptables' })
      : withKubeProxyJumps(rulesFromText(readFileSync(join(c.dir, 'input.yaml'), 'utf8'), readFileSync(join(c.dir, 'config.yaml'), 'utf8')).table)

    it.each(c.rows.map((r) => [r.name, r] as const))('%s', (_row, row) => {
      const r = runFlowRow(table, row, c.localIPs)
      expect(r.upstreamOk, formatFlowFailure(r)).toBe(true)
      expect(r.realOk, formatFlowFailure(r)).toBe(true)
      expect(r.real.unmodelled).toEqual([])
    })

    const checksFile = join(c.dir, 'chain-checks.yaml')
    if (existsSync(checksFile)) {
      it.each((parseYaml(readFileSync(checksFile, 'utf8')) as ChainCheck[]).map((k) => [`${k.table} ${k.chain}`, k] as const))('chain check %s', (_n, check) => {
        const chain = table.tables.find((t) => t.name === check.table)?.chains.find((ch) => ch.name === check.chain)
        expect((chain?.rules ?? []).map((rule) => `-A ${check.chain}${renderRuleArgs(rule)}`)).toEqual(check.rules)
      })
    }
  })
})

// ---- the executor matrix: one suite, every executor, a reason for every skip ----

packetFlowSuite({
  name: 'iptables interpreter (InterpreterExecutor)',
  newExecutor: async (family) => {
    const executor = new InterpreterExecutor({ family })
    return { executor, held: async () => executor.table(), close: async () => {} }
  },
})

const noKernel = kernelUnavailable()
packetFlowSuite({
  name: 'iptables kernel, nft backend, in a user+network namespace (KernelExecutor)',
  newExecutor: newKernelExecutor,
  clusters: 12,
  withoutNfacct: true,
  ...(noKernel !== undefined ? { skip: noKernel } : {}),
})

// The nftables vectors (../shared/kube-proxy-golden-nft/flows) through every nftables executor.
nftPacketFlowSuite({
  name: 'nftables interpreter (NftInterpreterExecutor)',
  newExecutor: async () => {
    const executor = new NftInterpreterExecutor()
    return { executor, held: async () => executor.list(), close: async () => {} }
  },
})
nftModeOracleSuite({ clusters: 30 })
const noNftKernel = nftKernelUnavailable()
// What the kernel holds after `nft -f`, listed by `nft list table` and traced by the nft interpreter.
nftPacketFlowSuite({ name: 'nftables kernel, in a user+network namespace (NftKernelExecutor)', newExecutor: newNftKernelExecutor, ...(noNftKernel !== undefined ? { skip: noNftKernel } : {}) })
// The same rows answered by the kernel itself, with real packets.
nftKernelPacketSuite({ name: 'nftables kernel, real packets (NftKernelExecutor)', ...(noNftKernel !== undefined ? { skip: noNftKernel } : {}) })
nftKernelRandomOracleSuite({ name: 'nftables kernel against the nft interpreter, real packets', clusters: 50, ...(noNftKernel !== undefined ? { skip: noNftKernel } : {}) })
