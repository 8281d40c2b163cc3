/**
 * The proxier installs kube-proxy's jumps from the built-in chains itself, through the executor
 * seam (upstream iptablesJumpChains): on full syncs only, at the top, never twice, and again
 * after someone flushed them.
 */
import { describe, expect, it } from 'vitest'
import { deriveEndpointSlices, type EndpointSlice, type Node, type Service } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { buildIptablesRules, builtinJumpRules, savedView, sortIptablesRestore } from '../../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { InterpreterExecutor, renderIptablesSave, renderRuleArgs, type Rule, type RuleExecutor, type TableName } from '../../../src/proxy/netfilter/index.js'
import { Proxier } from '../../../src/proxy/proxier/index.js'
import { loadFixture } from '../../helpers/fixtures.js'
import { FakeTimers, flush } from '../kubelet/fake-timers.js'

const set = loadFixture('demo')
const nodes: Node[] = set.nodes.map((l) => l.object)
const services: Service[] = set.services.map((l) => l.object)
const slices: EndpointSlice[] = deriveEndpointSlices({ services, pods: set.pods.map((l) => l.object), nodes })
const config = resolveProxierConfig({ config: set.kubeProxyConfigurations[0]!.object, ipFamily: 'IPv4', node: nodes[0], nodeName: 'node-a' })

/** The interpreter, with a log of the ensure commands it ran. */
class LoggingExecutor extends InterpreterExecutor {
  readonly ensures: string[] = []
  override ensureChain(table: TableName, chain: Parameters<RuleExecutor['ensureChain']>[1]): Promise<void> {
    this.ensures.push(`-t ${table} -N ${chain}`)
    return super.ensureChain(table, chain)
  }
  override ensureRule(position: 'prepend', table: TableName, chain: string, rule: Rule): Promise<void> {
    this.ensures.push(`-t ${table} -I ${chain}${renderRuleArgs(rule)}`)
    return super.ensureRule(position, table, chain, rule)
  }
}

function setup() {
  const timers = new FakeTimers()
  const svcSource = new MemoryObjectSource<Service>(services)
  const executor = new LoggingExecutor({ family: 'IPv4' })
  const proxier = new Proxier({
    config, source: { services: svcSource, endpointSlices: new MemoryObjectSource<EndpointSlice>(slices) }, executor, timers,
    clock: { now: () => timers.now }, minSyncPeriodMs: 1000, syncPeriodMs: 30_000, fullSyncPeriodMs: 3_600_000,
  })
  return { timers, svcSource, executor, proxier }
}

const chainRules = (ex: InterpreterExecutor, table: TableName, chain: string): string[] =>
  ex.table().tables.find((t) => t.name === table)!.chains.find((c) => c.name === chain)!.rules.map((r) => renderRuleArgs(r).trim())

describe('jump chains from the built-in chains', () => {
  it('a fresh host after the first sync holds what iptables-save shows after a full kube-proxy sync', async () => {
    const { proxier, executor } = setup()
    expect(chainRules(executor, 'filter', 'INPUT')).toEqual([])
    await proxier.start()
    const want = sortIptablesRestore(renderIptablesSave(savedView(buildIptablesRules({ state: buildProxyState(services, slices, 'IPv4', 'node-a'), config }))))
    expect(sortIptablesRestore(renderIptablesSave(executor.table()))).toBe(want)
    // Each jump inserted at position 1, in upstream's order: later ones come first.
    expect(chainRules(executor, 'filter', 'INPUT').map((r) => r.split(' ').at(-1))).toEqual(['KUBE-FIREWALL', 'KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES'])
    expect(executor.ensures.filter((e) => e.includes(' -I ')).length).toBe(builtinJumpRules().length)
    proxier.stop()
  })

  it('runs the ensure commands on full syncs only, keeps pre-existing rules below, and never duplicates a jump', async () => {
    const { proxier, executor, svcSource, timers } = setup()
    await executor.ensureRule('prepend', 'nat', 'PREROUTING', { matches: [], target: { kind: 'verdict', verdict: 'ACCEPT' } })
    await proxier.start()
    expect(chainRules(executor, 'nat', 'PREROUTING')).toEqual(['-m comment --comment "kubernetes service portals" -j KUBE-SERVICES', '-j ACCEPT'])
    const afterFirst = executor.ensures.length
    const web = svcSource.get('default/web')!
    svcSource.upsert({ ...web, metadata: { ...web.metadata, annotations: { touched: 'yes' } } })
    await flush()
    await timers.advance(1000)
    expect(proxier.stats()).toMatchObject({ syncs: 2, lastSyncMode: 'partial' })
    expect(executor.ensures.length).toBe(afterFirst)
    await timers.advance(3_600_000)
    expect(proxier.stats()).toMatchObject({ fullSyncs: 2 })
    expect(executor.ensures.length).toBe(afterFirst + 2 * builtinJumpRules().length)
    expect(chainRules(executor, 'nat', 'PREROUTING')).toHaveLength(2)
    proxier.stop()
  })

  it('a full sync puts back jumps someone flushed', async () => {
    const { proxier, executor, timers } = setup()
    await proxier.start()
    await executor.apply('*nat\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n', { flush: 'no-flush', counters: 'restore' })
    expect(chainRules(executor, 'nat', 'OUTPUT')).toEqual([])
    await timers.advance(3_600_000)
    expect(chainRules(executor, 'nat', 'OUTPUT')).toEqual(['-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'])
    proxier.stop()
  })

  it('the interpreter refuses a jump from a missing chain or to a missing target, as iptables -I does', async () => {
    const ex = new InterpreterExecutor({ family: 'IPv4' })
    const jump = builtinJumpRules()[0]!
    await expect(ex.ensureRule('prepend', jump.table, jump.from, jump.rule)).rejects.toMatchObject({ code: 'KPE_EXEC' })
    await ex.ensureChain(jump.table, jump.to)
    await expect(ex.ensureRule('prepend', jump.table, 'NO-SUCH-CHAIN', jump.rule)).rejects.toThrow(/No chain/)
    await ex.ensureRule('prepend', jump.table, jump.from, jump.rule)
    expect(chainRules(ex, jump.table, jump.from)).toHaveLength(1)
  })
})
