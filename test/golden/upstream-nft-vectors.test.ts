import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { runRulesCommand } from '../../src/cli/rules-command.js'
import { servicePortChainNameBase, servicePortEndpointChainNameBase, sortNftablesDump } from '../../src/proxy/nftables/index.js'
import { goldenNftDir, hasShared, nftVectorCases } from '../helpers/shared.js'
import { readFileSync } from 'node:fs'
import { loadManifestText, parseProxierConfigFile } from '../../src/api/index.js'
import { proxierInputFromFile } from '../../src/cli/vector-config.js'
import { renderNftablesTransaction, renderNftSyncTransaction } from '../../src/proxy/nftables/index.js'
import { buildNodeNftSync } from '../../src/proxy/node-rules/index.js'

// Upstream's nftables-mode vectors (../shared/kube-proxy-golden-nft): kpe's output and the
// expected dump must be equal after upstream's sortNFTablesTransaction normalisation.
const present = hasShared(goldenNftDir)
const file = (...parts: string[]): string => join(goldenNftDir, ...parts)
const read = (...parts: string[]): string => readFileSync(file(...parts), 'utf8')

interface SyncHistory {
  readonly after?: string
  readonly staleChains?: readonly string[]
}

function syncOf(name: string): SyncHistory {
  return (parse(read(name, 'config.yaml')) as { sync?: SyncHistory }).sync ?? {}
}

describe.runIf(present)('upstream kube-proxy nftables vectors (../shared/kube-proxy-golden-nft)', () => {
  it('finds the fifteen dump cases', () => {
    expect(nftVectorCases()).toHaveLength(15)
  })

  it.each(present ? nftVectorCases() : [])('%s: kpe rules -f input.yaml --config config.yaml matches', async (name) => {
    const out = await runRulesCommand(['-f', file(name, 'input.yaml'), '--config', file(name, 'config.yaml'), '--mode', 'nftables'])
    expect(sortNftablesDump(out)).toBe(sortNftablesDump(read(name, 'expected.nft')))
  })

  // The sync history instead of the recorded result: the table after a sync since the previous
  // step's objects, with the config's staleChains left out so kpe must find them itself.
  const stepped = present ? nftVectorCases().filter((n) => syncOf(n).after !== undefined) : []
  it.each(stepped)('%s: a sync since the previous step reaches the expected table', (name) => {
    const after = syncOf(name).after!
    const config = { ...proxierInputFromFile(parseProxierConfigFile(read(name, 'config.yaml'), 'config.yaml')), staleChains: [] }
    const sync = buildNodeNftSync({ manifests: loadManifestText(read(name, 'input.yaml'), 'input.yaml'), ...config }, loadManifestText(read(after, 'input.yaml'), 'input.yaml'))
    expect(sortNftablesDump(renderNftablesTransaction(sync.after))).toBe(sortNftablesDump(read(name, 'expected.nft')))
    expect([...sync.stale.stale.keys()]).toEqual(syncOf(name).staleChains ?? [])
    expect(sync.full).toBe(false)
  })

  it('kpe rules --since prints the sync transaction', async () => {
    const name = 'sync-repeated-03-delete-service'
    const out = await runRulesCommand(['--since', file('sync-repeated-02-add-service', 'input.yaml'), '-f', file(name, 'input.yaml'), '--config', file(name, 'config.yaml')])
    expect(out).toContain('flush chain ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080\n')
    expect(out).toContain('delete element ip kube-proxy service-ips { 172.30.0.42 . tcp . 8080 }\n')
    // A partial sync leaves the unchanged Services' chains alone.
    expect(out).not.toContain('ns1/svc1')
    const full = await runRulesCommand(['--since', file('sync-repeated-02-add-service', 'input.yaml'), '-f', file(name, 'input.yaml'), '--config', file(name, 'config.yaml'), '--full-sync'])
    expect(full).toContain('flush chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80\n')
  })

  interface NameVector { readonly name: string; readonly namespace: string; readonly service: string; readonly port: string; readonly protocol: 'tcp' | 'udp' | 'sctp'; readonly endpoint?: string; readonly expected: string }
  const names = present ? (parse(read('names.yaml')) as Record<'servicePortChainNameBase' | 'servicePortEndpointChainNameBase', NameVector[]>) : undefined
  const nameRows = names ? [...names.servicePortChainNameBase, ...names.servicePortEndpointChainNameBase] : []
  it('finds the nine chain-name vectors', () => {
    expect(nameRows).toHaveLength(9)
  })
  it.each(nameRows.map((v) => [v.name, v] as const))('chain name %s', (_n, v) => {
    const sp = { namespace: v.namespace, name: v.service, port: v.port, protocol: 'TCP' as const }
    if (v.endpoint === undefined) {
      expect(servicePortChainNameBase(sp, v.protocol)).toBe(v.expected)
      return
    }
    // upstream's endpoint string: ip:port, IPv6 in brackets
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(v.endpoint)!
    expect(servicePortEndpointChainNameBase(sp, v.protocol, m[1]!, Number(m[2]))).toBe(v.expected)
  })
})
