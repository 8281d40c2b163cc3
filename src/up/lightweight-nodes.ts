/**
 * kpe up's lightweight nodes (--nodes, --real-nodes): Nodes that answer the API as KWOK's do.
 * One fake kubelet marks their Pods Running and Ready with an IP from the node's podCIDR and
 * opens no listener; one heartbeat loop renews all their Leases. No kube-proxy loop runs for them.
 */
import type { ControlPlane } from '../cluster/index.js'
import { FakeKubelet } from '../controllers/index.js'
import { LightweightNodeHeartbeats } from '../kubelet/index.js'
import { LightweightRulesLoop } from '../node/index.js'
import type { EndpointSlice, KubeProxyConfiguration, Node, Service } from '../api/index.js'
import type { ObjectSource } from '../client/index.js'
import { UsageError } from '../errors.js'
import type { Clock, Timers } from '../runtime/index.js'

export interface LightweightNodes {
  readonly names: readonly string[]
  readonly kubelet: FakeKubelet
  readonly heartbeats: LightweightNodeHeartbeats
  /** Their kube-proxy: one loop computing every lightweight node's rules (served at /rules/NODE). */
  readonly rules: LightweightRulesLoop
  stop(): void
}

/**
 * Which of the cluster's nodes run real agents: `requested` (each must exist), or the default.
 * The rest are lightweight.
 */
export function splitRealNodes(all: readonly string[], requested: readonly string[] | undefined, fallback: readonly string[]): { real: string[]; lightweight: string[] } {
  const known = new Set(all)
  const wanted = requested ?? fallback.filter((n) => known.has(n))
  const unknown = wanted.filter((n) => !known.has(n))
  if (unknown.length > 0) throw new UsageError(`--real-nodes: no Node named ${unknown.map((n) => JSON.stringify(n)).join(', ')}; the cluster has ${all.length} nodes (${all.slice(0, 5).join(', ')}${all.length > 5 ? ', ...' : ''})`)
  const real = new Set(wanted)
  return { real: all.filter((n) => real.has(n)), lightweight: all.filter((n) => !real.has(n)) }
}

export async function startLightweightNodes(o: {
  readonly controlPlane: ControlPlane
  readonly names: readonly string[]
  readonly timers: Timers
  readonly clock: Clock
  readonly leaseDurationSeconds?: number
  readonly kubeProxyConfiguration: KubeProxyConfiguration
  readonly services: ObjectSource<Service>
  readonly endpointSlices: ObjectSource<EndpointSlice>
  readonly log?: (line: string) => void
}): Promise<LightweightNodes> {
  const cp = o.controlPlane
  const heartbeats = new LightweightNodeHeartbeats({
    nodeNames: o.names, api: { get: (resource, namespace, name) => cp.store.get({ resource, namespace, name }), client: cp.client },
    timers: o.timers, clock: o.clock, ...(o.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: o.leaseDurationSeconds } : {}), ...(o.log ? { log: o.log } : {}),
  })
  const kubelet = new FakeKubelet({ store: cp.store, client: cp.client, clock: o.clock, nodes: o.names })
  const names = new Set(o.names)
  const rules = new LightweightRulesLoop({
    nodes: (cp.store.list('nodes').items as unknown as Node[]).filter((n) => names.has(n.metadata.name ?? '')),
    kubeProxyConfiguration: o.kubeProxyConfiguration, services: o.services, endpointSlices: o.endpointSlices, timers: o.timers, clock: o.clock, ...(o.log ? { log: o.log } : {}),
  })
  await heartbeats.start()
  kubelet.start()
  await rules.start()
  return { names: o.names, kubelet, heartbeats, rules, stop: () => { rules.stop(); heartbeats.stop(); kubelet.stop() } }
}
