/**
 * The shared conformance suite (in the shape of hono's router tests): every executor behind the
 * RuleExecutor seam loads the same rules the way the proxier does and must answer the same
 * upstream packet-flow rows and hold the same tables as a from-scratch build on random clusters.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EndpointSlice, Service } from '../../src/api/index.js'
import { objectKey } from '../../src/api/index.js'
import { MemoryObjectSource, type ObjectMetaLike } from '../../src/client/index.js'
import { realTimers } from '../../src/runtime/index.js'
import type { IPAddress, IPFamily } from '../../src/net/index.js'
import { buildIptablesRules, savedView, sortIptablesRestore } from '../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig, type ProxierConfig } from '../../src/proxy/model/index.js'
import { parseIptablesSave, renderIptablesRestore, renderIptablesSave, type RuleTable } from '../../src/proxy/netfilter/index.js'
import type { RuleExecutor } from '../../src/proxy/netfilter/index.js'
import { ensureJumpChains, Proxier } from '../../src/proxy/proxier/index.js'
import { clusterArb, type ClusterCase } from '../helpers/cluster-arbitrary.js'
import { formatFlowFailure, listFlowCases, loadFlowCase, runFlowRow, type FlowCase } from '../helpers/flows.js'
import { rulesFromText } from '../helpers/rules.js'
import { hasShared } from '../helpers/shared.js'

/** One node's tables behind the seam, and a way to read back what they hold. */
export interface ConformanceExecutor {
  readonly executor: RuleExecutor
  /** The node's tables as iptables-save lists them now. */
  held(): Promise<RuleTable>
  close(): Promise<void>
}

export interface PacketFlowSuiteOptions {
  /** Shown in the test names: which executor this row of the matrix is. */
  readonly name: string
  readonly newExecutor: (family: IPFamily) => Promise<ConformanceExecutor>
  /** Why this executor does not run here; every skip must give one. */
  readonly skip?: string
  /** Random clusters per run (seeded); the kernel rows take a few hundred ms each. */
  readonly clusters?: number
  /**
   * The node has no nfacct counter objects (upstream creates them over netlink at start; the
   * kernel executor does not yet), so the vectors' rules are built as for such a host. The rows'
   * answers do not change: an nfacct match only counts, it matches every packet.
   */
  readonly withoutNfacct?: boolean
}

/** The rules of one upstream flow case, loaded as the proxier loads them on a fresh node. */
async function loadCase(ex: ConformanceExecutor, c: FlowCase, o: PacketFlowSuiteOptions): Promise<void> {
  if (c.iptables !== undefined) {
    // trace-packet gives a whole dump (built-in chains included): a flushing restore. Upstream's
    // hand-written text leaves some comments unquoted, which iptables-restore would split; kpe's
    // renderer writes the same rules as the kernel reads them.
    const dump = parseIptablesSave(c.iptables, { source: `${c.name}/input.iptables` })
    await ex.executor.apply(renderIptablesSave(dump), { flush: 'flush', counters: 'restore' })
    return
  }
  const { table } = rulesFromText(readFileSync(join(c.dir, 'input.yaml'), 'utf8'), configText(c, o))
  await ensureJumpChains(ex.executor)
  await ex.executor.apply(renderIptablesRestore(table), { flush: 'no-flush', counters: 'restore' })
}

function configText(c: FlowCase, o: PacketFlowSuiteOptions): string {
  const text = readFileSync(join(c.dir, 'config.yaml'), 'utf8')
  if (!o.withoutNfacct) return text
  const doc = parseYaml(text) as { proxier?: { nfacctCounters?: Record<string, boolean> } }
  if (doc.proxier?.nfacctCounters) doc.proxier.nfacctCounters = Object.fromEntries(Object.keys(doc.proxier.nfacctCounters).map((k) => [k, false]))
  return stringifyYaml(doc)
}

function familyOf(c: FlowCase): IPFamily {
  if (c.iptables !== undefined) return parseIptablesSave(c.iptables, { source: 'input.iptables' }).family
  return rulesFromText(readFileSync(join(c.dir, 'input.yaml'), 'utf8'), readFileSync(join(c.dir, 'config.yaml'), 'utf8')).table.family
}

const oracleConfig: ProxierConfig = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' },
  ipFamily: 'IPv4', node: undefined, nodeName: 'node-a', extraInterfaceAddresses: ['192.168.0.2' as IPAddress],
})

/** Makes a source hold exactly `objects` through watch events. */
function replaceAll<T extends ObjectMetaLike>(source: MemoryObjectSource<T>, objects: readonly T[]): void {
  const keep = new Set(objects.map((o) => objectKey(o)))
  for (const o of source.items()) if (!keep.has(objectKey(o))) source.delete(objectKey(o))
  for (const o of objects) source.upsert(o)
}

const savedText = (t: RuleTable): string => sortIptablesRestore(renderIptablesSave(t))

/**
 * A sequence of random clusters fed to the real proxier loop (first sync full, then partial
 * syncs) writing through the executor; after each, the node must hold what iptables-save shows
 * after a full sync of a from-scratch build of that cluster.
 */
async function runClusterSequence(ex: ConformanceExecutor, clusters: readonly ClusterCase[]): Promise<string[]> {
  const services = new MemoryObjectSource<Service>(clusters[0]!.services)
  const slices = new MemoryObjectSource<EndpointSlice>(clusters[0]!.endpointSlices)
  const log: string[] = []
  const proxier = new Proxier({
    config: oracleConfig, source: { services, endpointSlices: slices }, executor: ex.executor,
    timers: realTimers, clock: { now: () => Date.now() }, minSyncPeriodMs: 0, log: (l) => log.push(l),
  })
  const problems: string[] = []
  try {
    await proxier.start()
    for (const [i, cluster] of clusters.entries()) {
      if (i > 0) {
        replaceAll(services, cluster.services)
        replaceAll(slices, cluster.endpointSlices)
        await new Promise((r) => setImmediate(r))
        await proxier.settled()
      }
      const want = savedText(savedView(buildIptablesRules({ state: buildProxyState(cluster.services, cluster.endpointSlices, 'IPv4', 'node-a'), config: oracleConfig })))
      const have = savedText(await ex.held())
      if (have !== want) problems.push(`cluster ${i} (${proxier.stats().lastSyncMode} sync): the node's tables differ from a fresh build\n${log.join('\n')}`)
    }
    if (proxier.stats().failures > 0) problems.push(`failed restores: ${log.join('\n')}`)
    expect(proxier.stats().syncs - proxier.stats().fullSyncs, 'some syncs were partial').toBeGreaterThan(0)
  } finally {
    proxier.stop()
  }
  return problems
}

export function packetFlowSuite(o: PacketFlowSuiteOptions): void {
  if (o.skip !== undefined) {
    // Printed at collection, so `npm test` shows every row of the executor matrix.
    console.info(`[conformance] ${o.name}: skipped (${o.skip})`)
    describe.skip(`${o.name} (skipped: ${o.skip})`, () => {
      it('upstream packet-flow vectors', () => {})
      it('random clusters through the proxier loop', () => {})
    })
    return
  }
  console.info(`[conformance] ${o.name}: runs`)
  describe(o.name, () => {
    describe.runIf(hasShared())('upstream packet-flow vectors', () => {
      // The case and row counts are checked once, by the builder's block in packet-flows.test.ts.
      const cases = hasShared() ? listFlowCases().map((n) => loadFlowCase(n)) : []
      describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
        let held: RuleTable | undefined
        beforeAll(async () => {
          const ex = await o.newExecutor(familyOf(c))
          try {
            await loadCase(ex, c, o)
            held = await ex.held()
          } finally {
            await ex.close()
          }
        })

        it.each(c.rows.map((r) => [r.name, r] as const))('%s', (_row, row) => {
          const r = runFlowRow(held!, row, c.localIPs)
          expect(r.realOk, formatFlowFailure(r)).toBe(true)
          expect(r.upstreamOk, formatFlowFailure(r)).toBe(true)
        })
      })
    })

    describe('random clusters through the proxier loop', () => {
      let ex: ConformanceExecutor
      beforeAll(async () => {
        ex = await o.newExecutor('IPv4')
      })
      afterAll(async () => {
        await ex?.close()
      })

      it(`${o.clusters ?? 30} clusters, seed 7: the node holds a fresh build's tables after every sync`, async () => {
        const clusters = fc.sample(clusterArb(5), { seed: 7, numRuns: o.clusters ?? 30 })
        expect(await runClusterSequence(ex, clusters)).toEqual([])
      }, 120_000)
    })
  })
}
