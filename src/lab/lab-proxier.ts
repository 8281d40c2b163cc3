/**
 * The real proxier loop against the lab's kernel: one Proxier per node and IP family, reading
 * the manifests' Services and EndpointSlices, writing through a KernelExecutor in the node's
 * namespace. `kpe lab up` runs its first (full) sync; `kpe lab sync` replays the earlier
 * manifests, then feeds the change as watch events so the loop programs it as a partial sync.
 */
import type { EndpointSlice, ManifestSet, Service } from '../api/index.js'
import { ExecError, NotFoundError } from '../errors.js'
import { objectKey } from '../api/index.js'
import { MemoryObjectSource, type ObjectMetaLike } from '../client/index.js'
import { realTimers } from '../runtime/index.js'
import { clusterObjects, nodeProxierInput, type NodeConfigSource } from '../proxy/model/index.js'
import { Proxier } from '../proxy/proxier/index.js'
import { KernelExecutor } from './kernel-executor.js'
import { labRunner } from './lab-executor.js'
import { labFamilies } from './lab-rules.js'
import { syncLabNftables } from './lab-nft-sync.js'
import type { LabState } from './lab-state.js'
import type { IPFamily } from '../net/index.js'

export interface LabNodeSync {
  readonly node: string
  readonly family: IPFamily
  /** The loop's last sync: 'partial' after a change the loop could write incrementally. */
  readonly mode: 'full' | 'partial'
  /** Services (`ns/name`) the last sync rewrote. */
  readonly changed: readonly string[]
  /** Failed restores the loop recovered from with a full resync. */
  readonly failures: number
}

export interface LabSyncRequest {
  readonly manifests: ManifestSet
  /** The KubeProxyConfiguration and any injected values, converted at the CLI edge. */
  readonly config: NodeConfigSource | undefined
  /** The manifests the kernel was last synced from: the loop starts there and syncs the difference. */
  readonly before?: ManifestSet
}

/** Runs every node's proxier loop until the kernel holds the rules for `manifests`. */
export async function syncLabProxiers(state: LabState, req: LabSyncRequest): Promise<LabNodeSync[]> {
  if (!state.plan) throw new NotFoundError(`lab ${state.prefix} has no plan recorded`)
  // nftables mode has no proxier loop yet: each sync is one full transaction per node.
  if (state.mode === 'nftables') return syncLabNftables(state, req)
  const plan = state.plan
  const after = clusterObjects(req.manifests)
  const start = req.before ? clusterObjects(req.before) : after
  const runs = after.nodes.flatMap((n) => labFamilies(req.config).map((family) => ({ node: n.metadata.name ?? '', family })))
  return Promise.all(runs.filter((r) => plan.nodes.some((n) => n.name === r.node)).map(async ({ node, family }): Promise<LabNodeSync> => {
    const netns = plan.nodes.find((n) => n.name === node)!.netns
    const services = new MemoryObjectSource<Service>(start.services)
    const endpointSlices = new MemoryObjectSource<EndpointSlice>(start.endpointSlices)
    const log: string[] = []
    const proxier = new Proxier({
      config: nodeProxierInput(after, req.config, node, family).config,
      source: { services, endpointSlices },
      executor: new KernelExecutor({ run: labRunner(state, netns), family, backend: state.backend }),
      timers: realTimers,
      clock: { now: () => Date.now() },
      minSyncPeriodMs: 0,
      log: (line) => log.push(line),
    })
    try {
      await proxier.start()
      await settle(proxier, 0)
      if (req.before) {
        const failed = proxier.stats().failures
        replaceAll(services, after.services)
        replaceAll(endpointSlices, after.endpointSlices)
        await settle(proxier, failed)
      }
      const s = proxier.stats()
      return { node, family, mode: s.lastSyncMode ?? 'full', changed: s.lastChanged, failures: s.failures }
    } catch (err) {
      throw new ExecError(`proxier ${node} (${family})`, null, [err instanceof Error ? err.message : String(err), ...log].join('\n'))
    } finally {
      proxier.stop()
    }
  }))
}

/**
 * Waits until the loop has synced every change. A failed restore makes the loop's next sync a
 * full one (upstream); that resync runs here at once, and its failure is the command's error.
 */
async function settle(proxier: Proxier, failedBefore: number): Promise<void> {
  // The source delivers watch events asynchronously.
  await new Promise((r) => setImmediate(r))
  await proxier.settled()
  if (proxier.stats().failures === failedBefore) return
  const syncs = proxier.stats().syncs
  await proxier.syncNow()
  if (proxier.stats().syncs === syncs) throw new Error('iptables-restore failed, and so did the full resync after it')
}

/** Makes a source hold exactly `objects`: deletes the missing, upserts the rest (watch events). */
function replaceAll<T extends ObjectMetaLike>(source: MemoryObjectSource<T>, objects: readonly T[]): void {
  const keep = new Set(objects.map((o) => objectKey(o)))
  for (const o of source.items()) if (!keep.has(objectKey(o))) source.delete(objectKey(o))
  for (const o of objects) source.upsert(o)
}
