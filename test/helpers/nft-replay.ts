/**
 * Replays upstream's TestSyncProxyRulesRepeated (the sync-repeated-* vectors) through the live
 * nftables proxier's bookkeeping: each step's object changes fed to the change tracker, the clock
 * moved past the 1 s stale-chain delay where upstream ages its chains, one sync per check.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { loadManifestText, objectKey, parseProxierConfigFile, type EndpointSlice, type Service } from '../../src/api/index.js'
import { proxierInputFromFile } from '../../src/cli/vector-config.js'
import { nodeInputFor } from '../../src/proxy/model/index.js'
import { NftProxierSync, type NftNextSync } from '../../src/proxy/proxier/index.js'
import { goldenNftDir, nftVectorCases } from './shared.js'

const read = (...p: string[]): string => readFileSync(join(goldenNftDir, ...p), 'utf8')

function objectsOf(name: string): { services: Map<string, Service>; slices: Map<string, EndpointSlice> } {
  const m = loadManifestText(read(name, 'input.yaml'), 'input.yaml')
  return { services: new Map(m.services.map((l) => [objectKey(l.object), l.object])), slices: new Map(m.endpointSlices.map((l) => [objectKey(l.object), l.object])) }
}

export interface ReplayedStep {
  readonly name: string
  readonly sync: NftNextSync
}

/** Steps whose change includes "aged": upstream moved its stale chains' time back by over 1 s before syncing. */
const agedSteps: Record<string, 'before' | 'between'> = {
  'sync-repeated-04-stale-chains-deleted': 'before',
  'sync-repeated-08-endpoint-added': 'before',
  // emptied, synced (not checked), aged, restored, synced
  'sync-repeated-11-emptied-and-restored-after-aging': 'between',
}

export function replaySyncRepeated(): ReplayedStep[] {
  const steps = nftVectorCases().filter((n) => n.startsWith('sync-repeated-'))
  const config = nodeInputFor({ manifests: loadManifestText(read(steps[0]!, 'input.yaml'), 'input.yaml'), ...proxierInputFromFile(parseProxierConfigFile(read(steps[0]!, 'config.yaml'), 'config.yaml')) }).input.config
  const sync = new NftProxierSync(config)
  let held = { services: new Map<string, Service>(), slices: new Map<string, EndpointSlice>() }
  let now = 0
  const feed = (next: typeof held): void => {
    for (const k of new Set([...held.services.keys(), ...next.services.keys()])) if (held.services.get(k) !== next.services.get(k)) sync.tracker.serviceChanged(held.services.get(k), next.services.get(k))
    for (const k of new Set([...held.slices.keys(), ...next.slices.keys()])) if (held.slices.get(k) !== next.slices.get(k)) sync.tracker.sliceChanged(held.slices.get(k), next.slices.get(k))
    held = next
  }
  const run = (): NftNextSync => {
    const s = sync.nextSync('partial', now)
    sync.applied(s)
    return s
  }
  const out: ReplayedStep[] = []
  for (const name of steps) {
    now += 10
    const aged = agedSteps[name]
    if (aged === 'before') now += 1100
    if (aged === 'between') {
      const emptied = objectsOf('sync-repeated-09-endpoints-emptied')
      feed(emptied)
      out.push({ name: `${name} (emptied, unchecked)`, sync: run() })
      now += 1100
    }
    feed(objectsOf(name))
    out.push({ name, sync: run() })
  }
  return out
}

export function expectedOf(name: string): string {
  return read(name, 'expected.nft')
}

export function staleChainsOf(name: string): readonly string[] {
  return (parse(read(name, 'config.yaml')) as { sync?: { staleChains?: string[] } }).sync?.staleChains ?? []
}
