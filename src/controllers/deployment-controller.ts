/**
 * The Deployment controller: finds or creates the ReplicaSet of the current template (named
 * <deployment>-<pod-template-hash>), applies one planRollout step to the ReplicaSets' replicas,
 * trims old ReplicaSets beyond revisionHistoryLimit, and writes the status kubectl reads.
 */
import { formatTimestamp } from '../api/index.js'
import type { Clock } from '../runtime/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { planRollout, resolveFenceposts, type ReplicaSetState, type Strategy } from './deployment-rollout.js'
import { deploymentStatus, type DeploymentCondition } from './deployment-status.js'
import { computePodTemplateHash, podTemplateHashLabel } from './pod-template-hash.js'
import { isControlledBy } from './replicaset-plan.js'
import { ownerWatches } from './owner-watches.js'
import { discardEvents, type EventRecorder } from './event-recorder.js'
import { sameJson } from './same-json.js'

type Obj = Record<string, unknown>
export const revisionAnnotation = 'deployment.kubernetes.io/revision'

function spec(o: KubeObject): Obj {
  return (o['spec'] as Obj | undefined) ?? {}
}
function statusOf(o: KubeObject): Obj {
  return (o['status'] as Obj | undefined) ?? {}
}
function num(v: unknown, dflt = 0): number {
  return typeof v === 'number' ? v : dflt
}

export function strategyOf(d: KubeObject): Strategy {
  const s = (spec(d)['strategy'] as Obj | undefined) ?? {}
  if (s['type'] === 'Recreate') return { type: 'Recreate' }
  const ru = (s['rollingUpdate'] as Obj | undefined) ?? {}
  return { type: 'RollingUpdate', maxSurge: (ru['maxSurge'] as number | string | undefined) ?? '25%', maxUnavailable: (ru['maxUnavailable'] as number | string | undefined) ?? '25%' }
}

function stateOf(rs: KubeObject): ReplicaSetState & { ready: number } {
  const st = statusOf(rs)
  return { name: rs.metadata.name ?? '', replicas: num(spec(rs)['replicas'], 1), actual: num(st['replicas']), available: num(st['availableReplicas']), ready: num(st['readyReplicas']) }
}

function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[revisionAnnotation] ?? 0) || 0
}

function newReplicaSet(d: KubeObject, hash: string, replicas: number, revision: number): KubeObject {
  const template = structuredClone((spec(d)['template'] as Obj | undefined) ?? {}) as { metadata?: Obj }
  const meta = template.metadata ?? {}
  meta['labels'] = { ...((meta['labels'] as Record<string, string> | undefined) ?? {}), [podTemplateHashLabel]: hash }
  template.metadata = meta
  const selector = structuredClone((spec(d)['selector'] as Obj | undefined) ?? {})
  selector['matchLabels'] = { ...((selector['matchLabels'] as Record<string, string> | undefined) ?? {}), [podTemplateHashLabel]: hash }
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name ?? ''}-${hash}`, namespace: d.metadata.namespace ?? 'default',
      labels: { ...((meta['labels'] as Record<string, string>)) },
      annotations: { [revisionAnnotation]: String(revision) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name ?? '', uid: d.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas, minReadySeconds: num(spec(d)['minReadySeconds']), selector, template },
  }
}

export function deploymentController(store: ObjectStore, client: ControllerClient, clock: Clock, events: EventRecorder = discardEvents): ControllerDefinition {
  return {
    name: 'deployment-controller',
    ...ownerWatches(store, { resource: storage.deployments, kind: 'Deployment' }, storage.replicaSets),
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key)
      const d = store.get({ resource: storage.deployments, namespace, name })
      if (!d || d.metadata.deletionTimestamp) return
      const owned = store.list(storage.replicaSets, { namespace }).items.filter((rs) => isControlledBy(rs as never, d.metadata.uid))
        .sort((a, b) => ((a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : (a.metadata.creationTimestamp ?? '') > (b.metadata.creationTimestamp ?? '') ? 1 : revisionOf(a) - revisionOf(b)))
      const hash = computePodTemplateHash(spec(d)['template'])
      let newRS = owned.find((rs) => rs.metadata.labels?.[podTemplateHashLabel] === hash)
      const oldRSes = owned.filter((rs) => rs !== newRS)
      const desired = num(spec(d)['replicas'], 1)
      const strategy = strategyOf(d)
      if (!newRS) {
        const revision = Math.max(0, ...owned.map(revisionOf)) + 1
        newRS = await client.create(resources.replicaSets, newReplicaSet(d, hash, 0, revision))
      }
      const plan = planRollout({ desired, strategy, newRS: stateOf(newRS), oldRSes: oldRSes.map(stateOf) })
      for (const rs of [newRS, ...oldRSes]) {
        const n = plan.get(rs.metadata.name ?? '')
        if (n === undefined) continue
        const from = num(spec(rs)['replicas'], 1)
        await client.update(resources.replicaSets, { ...rs, spec: { ...spec(rs), replicas: n } } as KubeObject)
        if (n !== from) events.recordEvent(d, 'ScalingReplicaSet', `Scaled ${n > from ? 'up' : 'down'} replica set ${rs.metadata.name ?? ''} from ${from} to ${n}`)
      }
      await trimHistory(client, d, oldRSes, namespace)
      await writeStatus(store, client, clock, d, newRS, oldRSes, desired, strategy)
    },
  }
}

async function trimHistory(client: ControllerClient, d: KubeObject, oldRSes: readonly KubeObject[], namespace: string): Promise<void> {
  const limit = num(spec(d)['revisionHistoryLimit'], 10)
  const idle = oldRSes.filter((rs) => num(spec(rs)['replicas'], 1) === 0 && num(statusOf(rs)['replicas']) === 0)
  for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) await client.delete(resources.replicaSets, namespace, rs.metadata.name ?? '')
}

async function writeStatus(store: ObjectStore, client: ControllerClient, clock: Clock, d: KubeObject, newRS: KubeObject, oldRSes: readonly KubeObject[], desired: number, strategy: Strategy): Promise<void> {
  const fresh = (rs: KubeObject): KubeObject => store.get({ resource: storage.replicaSets, namespace: rs.metadata.namespace ?? '', name: rs.metadata.name ?? '' }) ?? rs
  const maxUnavailable = strategy.type === 'RollingUpdate' ? resolveFenceposts(strategy.maxSurge, strategy.maxUnavailable, desired).unavailable : 0
  const input = {
    generation: d.metadata.generation ?? 1, desired, maxUnavailable,
    newRS: stateOf(fresh(newRS)), oldRSes: oldRSes.map((rs) => stateOf(fresh(rs))),
    previousConditions: (statusOf(d)['conditions'] as DeploymentCondition[] | undefined) ?? [],
    now: formatTimestamp(clock.now()),
  }
  const status = deploymentStatus(input)
  const revision = newRS.metadata.annotations?.[revisionAnnotation]
  const annotations = { ...(d.metadata.annotations ?? {}), ...(revision ? { [revisionAnnotation]: revision } : {}) }
  const live = store.get({ resource: storage.deployments, namespace: d.metadata.namespace ?? '', name: d.metadata.name ?? '' }) ?? d
  if (!sameJson(annotations, live.metadata.annotations ?? {})) {
    await client.update(resources.deployments, { ...live, metadata: { ...live.metadata, annotations } } as KubeObject)
    return // the update re-triggers this Deployment; status follows then
  }
  if (sameJson(status, statusOf(live))) return
  await client.updateStatus(resources.deployments, { ...live, status: { ...statusOf(live), ...status } } as KubeObject)
}
