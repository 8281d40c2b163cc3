/**
 * The dataplane's decisions on the demo's rules, through the interpreter in sample mode, without
 * sockets: in iptables mode (InterpreterExecutor) and in nftables mode (NftInterpreterExecutor,
 * loaded the way kpe up's nftables sync writes it).
 */
import { describe, expect, it } from 'vitest'
import { PodNetworkTable } from '../../../src/kubelet/index.js'
import { NodeDataplane } from '../../../src/proxy/userspace/index.js'
import { InterpreterExecutor, mergeRestore, NftInterpreterExecutor, renderIptablesRestore } from '../../../src/proxy/netfilter/index.js'
import { buildNodeNftRules } from '../../../src/proxy/node-rules/index.js'
import { renderNftablesTransaction } from '../../../src/proxy/nftables/index.js'
import { loadFixture } from '../../helpers/fixtures.js'
import { ensureJumpChains } from '../../../src/proxy/proxier/index.js'
import { renderFixture } from '../../helpers/fixtures.js'
import { savedView } from '../../../src/proxy/iptables/index.js'
import { FakeClock, seededRandom } from '../../helpers/seeded-random.js'

const podIPs: Record<string, [string, string][]> = {
  'node-a': [['10.244.0.2', 'default/web-a'], ['10.244.0.3', 'default/echo-a']],
  'node-b': [['10.244.1.2', 'default/web-b'], ['10.244.1.3', 'default/echo-b']],
  'node-c': [['10.244.2.2', 'default/web-c']],
}

type Mode = 'iptables' | 'nftables'

async function nftExecutor(node: string): Promise<NftInterpreterExecutor> {
  const executor = new NftInterpreterExecutor()
  const manifests = loadFixture('demo')
  const kpc = manifests.kubeProxyConfigurations[0]?.object
  const { ruleset } = buildNodeNftRules({ manifests, ...(kpc ? { kubeProxyConfiguration: { ...kpc, mode: 'nftables' } } : {}), nodeName: node, ipFamily: 'IPv4' })
  await executor.apply(renderNftablesTransaction(ruleset))
  return executor
}

async function dataplane(node: string, network: PodNetworkTable, podCIDR: string, nodeIP: string, mode: Mode = 'iptables'): Promise<NodeDataplane> {
  if (mode === 'nftables') return new NodeDataplane({ node, nodeIP, podCIDRs: [podCIDR], executor: await nftExecutor(node), network, random: seededRandom(1), clock: new FakeClock() })
  const executor = new InterpreterExecutor({ family: 'IPv4' })
  const { table } = renderFixture({ fixture: 'demo', node, family: 'IPv4' })
  // A full sync as the proxier runs it: the ensure commands, then the restore.
  await ensureJumpChains(executor)
  await executor.apply(renderIptablesRestore(table), { flush: 'no-flush', counters: 'restore' })
  return new NodeDataplane({ node, nodeIP, podCIDRs: [podCIDR], executor, network, random: seededRandom(1), clock: new FakeClock() })
}

function fullNetwork(): PodNetworkTable {
  const t = new PodNetworkTable()
  let port = 40000
  for (const [node, list] of Object.entries(podIPs)) {
    for (const [ip, pod] of list) {
      t.set(ip, 8080, 'tcp', { local: { address: '127.0.0.1', port: port++ }, pod, node })
      t.set(ip, 5678, 'tcp', { local: { address: '127.0.0.1', port: port++ }, pod, node })
    }
  }
  return t
}

const external = (dst: string, dport: number) => ({ src: '198.18.0.1', sport: 5555, dst, dport, proto: 'tcp' as const })

describe.each(['iptables', 'nftables'] as const)('NodeDataplane decisions (%s mode)', (mode) => {
  it('a NodePort with Cluster policy forwards to a pod, masqueraded', async () => {
    const dp = await dataplane('node-a', fullNetwork(), '10.244.0.0/24', '192.168.77.10', mode)
    const pods = new Set<string>()
    for (let i = 0; i < 30; i++) {
      const d = dp.decide(external('192.168.77.10', 30080), 'external')
      expect(d.route.kind).toBe('forward')
      if (d.route.kind === 'forward') {
        pods.add(d.route.pod)
        expect(d.route.masquerade).toBe(true)
        expect(d.route.seen.address).toBe(d.route.pod === 'default/web-a' ? '10.244.0.1' : '192.168.77.10')
        expect(d.route.local.address).toBe('127.0.0.1')
      }
    }
    expect([...pods].sort()).toEqual(['default/web-a', 'default/web-b', 'default/web-c'])
  })

  it('a service without endpoints is REJECTed', async () => {
    const dp = await dataplane('node-a', fullNetwork(), '10.244.0.0/24', '192.168.77.10', mode)
    expect(dp.decide(external('192.168.77.10', 30082), 'external').route.kind).toBe('reject')
  })

  it('externalTrafficPolicy Local on a node without local endpoints DROPs', async () => {
    const dp = await dataplane('node-c', fullNetwork(), '10.244.2.0/24', '192.168.77.12', mode)
    expect(dp.decide(external('192.168.77.12', 30081), 'external').route.kind).toBe('drop')
  })

  it('Local policy preserves the client address', async () => {
    const dp = await dataplane('node-b', fullNetwork(), '10.244.1.0/24', '192.168.77.11', mode)
    const d = dp.decide(external('192.168.77.11', 30081), 'external')
    expect(d.route).toMatchObject({ kind: 'forward', pod: 'default/echo-b', masquerade: false, seen: { address: '198.18.0.1' } })
  })

  it('a DNAT target missing from the pod network table is an error, never a fallback', async () => {
    const dp = await dataplane('node-a', new PodNetworkTable(), '10.244.0.0/24', '192.168.77.10', mode)
    const d = dp.decide({ src: '10.244.0.10', dst: '10.96.0.100', dport: 80, proto: 'tcp' }, 'external')
    expect(d.route.kind).toBe('unreachable')
    expect(d.route.kind === 'unreachable' ? d.route.reason : '').toMatch(/not in the pod network table/)
  })

  it('ClientIP affinity keeps a client on one pod across connections', async () => {
    const dp = await dataplane('node-a', fullNetwork(), '10.244.0.0/24', '192.168.77.10', mode)
    const pods = new Set<string>()
    for (let i = 0; i < 10; i++) {
      const r = dp.decide({ src: '10.244.0.10', dst: '10.96.0.101', dport: 80, proto: 'tcp' }, 'external').route
      if (r.kind === 'forward') pods.add(r.pod)
    }
    expect(pods.size).toBe(1)
  })
})

describe('restore with --noflush', () => {
  it('keeps chains the input does not mention and fails on a jump to a missing chain', async () => {
    const ex = new InterpreterExecutor({ family: 'IPv4' })
    await ex.apply('*nat\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-A KUBE-A -j KUBE-B\nCOMMIT\n', { flush: 'no-flush', counters: 'restore' })
    await ex.apply('*nat\n:KUBE-B - [0:0]\n-A KUBE-B -j RETURN\nCOMMIT\n', { flush: 'no-flush', counters: 'restore' })
    const nat = ex.table().tables.find((t) => t.name === 'nat')!
    expect(nat.chains.find((c) => c.name === 'KUBE-A')!.rules).toHaveLength(1)
    expect(nat.chains.find((c) => c.name === 'KUBE-B')!.rules).toHaveLength(1)
    await expect(ex.apply('*nat\n:KUBE-C - [0:0]\n-A KUBE-C -j KUBE-MISSING\nCOMMIT\n', { flush: 'no-flush', counters: 'restore' })).rejects.toMatchObject({ code: 'KPE_EXEC' })
    expect(() => mergeRestore(ex.table(), { family: 'IPv4', tables: [{ name: 'nat', chains: [], deletedChains: ['KUBE-B' as never] }] }, 'no-flush')).toThrow(/KUBE-A rule 1 jumps to missing chain KUBE-B/)
  })
})


describe('kpe up in nftables mode: the proxier loop writes the nft executor the dataplane samples', () => {
  it('carries traffic after a full and a partial sync, and affinity survives the partial sync', async () => {
    const { deriveEndpointSlices } = await import('../../../src/api/index.js')
    const { MemoryObjectSource } = await import('../../../src/client/index.js')
    const { resolveProxierConfig } = await import('../../../src/proxy/model/index.js')
    const { Proxier } = await import('../../../src/proxy/proxier/index.js')
    const { FakeTimers, flush } = await import('../kubelet/fake-timers.js')
    const set = loadFixture('demo')
    const nodes = set.nodes.map((l) => l.object)
    const services = set.services.map((l) => l.object)
    const slices = deriveEndpointSlices({ services, pods: set.pods.map((l) => l.object), nodes })
    const config = resolveProxierConfig({ config: { ...set.kubeProxyConfigurations[0]!.object, mode: 'nftables' }, ipFamily: 'IPv4', node: nodes[0], nodeName: 'node-a' })
    const timers = new FakeTimers()
    const svcSource = new MemoryObjectSource(services)
    const nft = new NftInterpreterExecutor()
    const untouched = (): Promise<void> => Promise.reject(new Error('nftables mode touched the iptables executor'))
    const proxier = new Proxier({
      config, source: { services: svcSource, endpointSlices: new MemoryObjectSource(slices) }, executor: { apply: untouched, ensureChain: untouched, ensureRule: untouched }, nftables: nft,
      timers, clock: { now: () => timers.now }, minSyncPeriodMs: 100, syncPeriodMs: 30_000,
    })
    await proxier.start()
    const dp = new NodeDataplane({ node: 'node-a', nodeIP: '192.168.77.10', podCIDRs: ['10.244.0.0/24'], executor: nft, network: fullNetwork(), random: seededRandom(1), clock: new FakeClock() })
    const affinityPod = (): string | undefined => {
      const r = dp.decide({ src: '10.244.0.10', dst: '10.96.0.101', dport: 80, proto: 'tcp' }, 'external').route
      return r.kind === 'forward' ? r.pod : undefined
    }
    const first = affinityPod()
    expect(first).toBeDefined()
    expect(dp.decide(external('192.168.77.10', 30082), 'external').route.kind).toBe('reject')
    // A change elsewhere: a partial sync, after which the affinity entry still pins the client.
    svcSource.delete(`default/${services.find((s) => s.metadata.name === 'empty')!.metadata.name}`)
    await flush()
    await timers.advance(200)
    await proxier.settled()
    expect(proxier.stats()).toMatchObject({ syncs: 2, lastSyncMode: 'partial', failures: 0 })
    for (let i = 0; i < 10; i++) expect(affinityPod()).toBe(first)
    // The deleted Service's NodePort is gone: nothing answers there any more.
    expect(dp.decide(external('192.168.77.10', 30082), 'external').route.kind).toBe('unreachable')
    proxier.stop()
  })
})
