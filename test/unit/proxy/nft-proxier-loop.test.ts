/** The kube-proxy loop in nftables mode (Proxier with an nftables executor) on fake timers. */
import { describe, expect, it } from 'vitest'
import { deriveEndpointSlices, type EndpointSlice, type Node, type Service } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { Proxier } from '../../../src/proxy/proxier/index.js'
import type { NftRuleExecutor } from '../../../src/proxy/netfilter/index.js'
import type { RuleExecutor } from '../../../src/proxy/netfilter/index.js'
import { loadFixture } from '../../helpers/fixtures.js'
import { FakeTimers, flush } from '../kubelet/fake-timers.js'

const set = loadFixture('demo')
const nodes: Node[] = set.nodes.map((l) => l.object)
const services: Service[] = set.services.map((l) => l.object)
const slices: EndpointSlice[] = deriveEndpointSlices({ services, pods: set.pods.map((l) => l.object), nodes })
const config = resolveProxierConfig({ config: { ...set.kubeProxyConfigurations[0]!.object, mode: 'nftables' }, ipFamily: 'IPv4', node: nodes[0], nodeName: 'node-a' })

class RecordingNft implements NftRuleExecutor {
  readonly texts: string[] = []
  failNext = 0
  async apply(text: string): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--
      throw new Error('nft: exit status 1')
    }
    this.texts.push(text)
  }
}

function setup() {
  const timers = new FakeTimers()
  const svcSource = new MemoryObjectSource<Service>(services)
  const nft = new RecordingNft()
  const untouched = (): Promise<void> => Promise.reject(new Error('nftables mode touched the iptables executor'))
  const iptables: RuleExecutor = { apply: untouched, ensureChain: untouched, ensureRule: untouched }
  const proxier = new Proxier({
    config, source: { services: svcSource, endpointSlices: new MemoryObjectSource<EndpointSlice>(slices) }, executor: iptables, nftables: nft,
    timers, clock: { now: () => timers.now }, minSyncPeriodMs: 100, syncPeriodMs: 30_000,
  })
  return { timers, svcSource, nft, proxier }
}

describe('Proxier in nftables mode', () => {
  it('writes a full transaction first, then partial ones; a deleted Service\'s chains are flushed, then deleted once 1 s old', async () => {
    const { timers, svcSource, nft, proxier } = setup()
    await proxier.start()
    expect(nft.texts).toHaveLength(1)
    expect(nft.texts[0]).toMatch(/^add table ip kube-proxy/m)
    expect(proxier.stats()).toMatchObject({ syncs: 1, fullSyncs: 1, lastSyncMode: 'full' })
    // iptables mode's executor (which rejects every call) is never touched.
    expect(proxier.stats().failures).toBe(0)

    svcSource.delete('default/web')
    await flush()
    timers.advance(100)
    await proxier.settled()
    const partial = nft.texts[1]!
    expect(partial).not.toMatch(/^add table/m)
    expect(partial).toMatch(/^flush chain ip kube-proxy service-[A-Z2-7]{8}-default\/web\/tcp\/http$/m)
    expect(partial).not.toMatch(/^delete chain/m)
    expect(proxier.stats()).toMatchObject({ syncs: 2, fullSyncs: 1, lastSyncMode: 'partial', lastChanged: ['default/web'] })

    // The periodic sync 30 s later finds the chains over 1 s stale: deleted.
    timers.advance(30_000)
    await flush()
    await proxier.settled()
    expect(nft.texts[2]).toMatch(/^delete chain ip kube-proxy service-[A-Z2-7]{8}-default\/web\/tcp\/http$/m)
    proxier.stop()
  })

  it('a failed transaction counts as a failure and the next sync is full', async () => {
    const { timers, svcSource, nft, proxier } = setup()
    await proxier.start()
    nft.failNext = 1
    svcSource.delete('default/web')
    await flush()
    timers.advance(100)
    await proxier.settled()
    expect(proxier.stats().failures).toBe(1)
    timers.advance(30_000)
    await flush()
    await proxier.settled()
    expect(nft.texts.at(-1)).toMatch(/^add table ip kube-proxy/m)
    expect(proxier.stats()).toMatchObject({ fullSyncs: 2, lastSyncMode: 'full' })
    proxier.stop()
  })
})
