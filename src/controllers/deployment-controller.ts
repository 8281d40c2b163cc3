/**
 * The Deployment controller: finds or creates the ReplicaSet of the current template (named
 * <deployment>-<pod-template-hash>; `rollout undo` finds the old one again and moves it to the
 * newest revision), applies one planRollout step (only scaling while paused), trims old
 * ReplicaSets beyond revisionHistoryLimit, and writes the status kubectl reads.
 */
import { formatTimestamp } from '../api/index.js'
import type { Clock } from '../runtime/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { planRollout, planScaleOnly, resolveFenceposts, type ReplicaSetState, type Strategy } from './deployment-rollout.js'
import { deploymentStatus, progressRecheckMs, type DeploymentCondition, type PreviousCounts } from './deployment-status.js'
import { computePodTemplateHash, podTemplateHashLabel } from './pod-template-hash.js'
import { isControlledBy } from './replicaset-plan.js'
import { ownerWatches } from './owner-watches.js'
import { discardEvents, type EventRecorder } from './event-recorder.js'
import { sameJson } from './same-json.js'

type Obj = Record<string, unknown>
export const revisionAnnotation = 'deployment.kubernetes.io/revision'
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history'
const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas'
const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas'
/** Deployment annotations upstream does not copy onto its ReplicaSets. */
const notCopied = new Set(['kubectl.kubernetes.io/last-applied-configuration', revisionAnnotation, revisionHistoryAnnotation, desiredReplicasAnnotation, maxReplicasAnnotation, 'deprecated.deployment.rollback.to'])

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
  return { name: rs.metadata.name ?? '', replicas: num(spec(rs)['replicas'], 1), actual: num(st['replicas']), available: num(st['availableReplicas']), ready: num(st['readyReplicas']), terminating: num(st['terminatingReplicas']) }
}

function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[revisionAnnotation] ?? 0) || 0
}

/**
 * upstream SetNewReplicaSetAnnotations + SetReplicasAnnotations: the Deployment's own annotations
 * (change-cause, say, for `rollout history`), the revision (a reused ReplicaSet, after
 * `rollout undo`, takes the next one and remembers the old in revision-history), and the
 * desired/max replica counts.
 */
export function replicaSetAnnotations(d: KubeObject, current: Readonly<Record<string, string>>, revision: number, desired: number, maxSurge: number): Record<string, string> {
  const out: Record<string, string> = { ...current }
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!notCopied.has(k)) out[k] = v
  const old = current[revisionAnnotation]
  if (old === undefined || Number(old) < revision) {
    out[revisionAnnotation] = String(revision)
    if (old !== undefined && old !== '') out[revisionHistoryAnnotation] = current[revisionHistoryAnnotation] ? `${current[revisionHistoryAnnotation]},${old}` : old
  }
  out[desiredReplicasAnnotation] = String(desired)
  out[maxReplicasAnnotation] = String(desired + maxSurge)
  return out
}

function maxSurgeOf(strategy: Strategy, desired: number): number {
  return strategy.type === 'RollingUpdate' ? resolveFenceposts(strategy.maxSurge, strategy.maxUnavailable, desired).surge : 0
}

function newReplicaSet(d: KubeObject, hash: string, replicas: number, revision: number, strategy: Strategy): KubeObject {
  const template = structuredClone((spec(d)['template'] as Obj | undefined) ?? {}) as { metadata?: Obj }
  const meta = template.metadata ?? {}
  meta['labels'] = { ...((meta['labels'] as Record<string, string> | undefined) ?? {}), [podTemplateHashLabel]: hash }
  template.metadata = meta
  const selector = structuredClone((spec(d)['selector'] as Obj | undefined) ?? {})
  selector['matchLabels'] = { ...((selector['matchLabels'] as Record<string, string> | undefined) ?? {}), [podTemplateHashLabel]: hash }
  const desired = num(spec(d)['replicas'], 1)
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name ?? ''}-${hash}`, namespace: d.metadata.namespace ?? 'default',
      labels: { ...((meta['labels'] as Record<string, string>)) },
      annotations: replicaSetAnnotations(d, {}, revision, desired, maxSurgeOf(strategy, desired)),
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
      if (!d || d.metadata.deletionTimestamp) return undefined
      const owned = store.list(storage.replicaSets, { namespace }).items.filter((rs) => isControlledBy(rs as never, d.metadata.uid) && !rs.metadata.deletionTimestamp)
        .sort((a, b) => ((a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : (a.metadata.creationTimestamp ?? '') > (b.metadata.creationTimestamp ?? '') ? 1 : revisionOf(a) - revisionOf(b)))
      const hash = computePodTemplateHash(spec(d)['template'])
      let newRS = owned.find((rs) => rs.metadata.labels?.[podTemplateHashLabel] === hash)
      const oldRSes = owned.filter((rs) => rs !== newRS)
      const desired = num(spec(d)['replicas'], 1)
      const strategy = strategyOf(d)
      const paused = spec(d)['paused'] === true
      const nextRevision = Math.max(0, ...oldRSes.map(revisionOf)) + 1
      // a paused Deployment starts no rollout: no new ReplicaSet, no revision change
      if (!newRS && !paused) newRS = await client.create(resources.replicaSets, newReplicaSet(d, hash, 0, nextRevision, strategy))
      else if (newRS && !paused) newRS = await syncAnnotations(client, d, newRS, nextRevision, desired, strategy)
      const plan = paused || !newRS
        ? planScaleOnly(desired, newRS ? stateOf(newRS) : undefined, oldRSes.map(stateOf))
        : planRollout({ desired, strategy, newRS: stateOf(newRS), oldRSes: oldRSes.map(stateOf) })
      for (const rs of [...(newRS ? [newRS] : []), ...oldRSes]) {
        const n = plan.get(rs.metadata.name ?? '')
        if (n === undefined) continue
        const from = num(spec(rs)['replicas'], 1)
        await client.update(resources.replicaSets, { ...rs, spec: { ...spec(rs), replicas: n } } as KubeObject)
        if (n !== from) events.recordEvent(d, 'ScalingReplicaSet', `Scaled ${n > from ? 'up' : 'down'} replica set ${rs.metadata.name ?? ''} from ${from} to ${n}`)
      }
      await trimHistory(client, d, oldRSes, namespace)
      return writeStatus(store, client, clock, d, newRS, oldRSes, desired, strategy)
    },
  }
}

/** The current ReplicaSet carries the Deployment's annotations and the newest revision (a reused one moves up). */
async function syncAnnotations(client: ControllerClient, d: KubeObject, rs: KubeObject, nextRevision: number, desired: number, strategy: Strategy): Promise<KubeObject> {
  const current = rs.metadata.annotations ?? {}
  const revision = Math.max(revisionOf(rs), nextRevision)
  const annotations = replicaSetAnnotations(d, current, revision, desired, maxSurgeOf(strategy, desired))
  if (sameJson(annotations, current)) return rs
  return client.update(resources.replicaSets, { ...rs, metadata: { ...rs.metadata, annotations } } as KubeObject)
}

async function trimHistory(client: ControllerClient, d: KubeObject, oldRSes: readonly KubeObject[], namespace: string): Promise<void> {
  const limit = num(spec(d)['revisionHistoryLimit'], 10)
  const idle = oldRSes.filter((rs) => num(spec(rs)['replicas'], 1) === 0 && num(statusOf(rs)['replicas']) === 0)
    .sort((a, b) => revisionOf(a) - revisionOf(b))
  for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) await client.delete(resources.replicaSets, namespace, rs.metadata.name ?? '')
}

/** Writes the status; answers when to look again for progressDeadlineSeconds. */
async function writeStatus(store: ObjectStore, client: ControllerClient, clock: Clock, d: KubeObject, newRS: KubeObject | undefined, oldRSes: readonly KubeObject[], desired: number, strategy: Strategy): Promise<number | undefined> {
  const fresh = (rs: KubeObject): KubeObject => store.get({ resource: storage.replicaSets, namespace: rs.metadata.namespace ?? '', name: rs.metadata.name ?? '' }) ?? rs
  const maxUnavailable = strategy.type === 'RollingUpdate' ? resolveFenceposts(strategy.maxSurge, strategy.maxUnavailable, desired).unavailable : 0
  const live = store.get({ resource: storage.deployments, namespace: d.metadata.namespace ?? '', name: d.metadata.name ?? '' }) ?? d
  const previous = statusOf(live)
  const deadline = typeof spec(d)['progressDeadlineSeconds'] === 'number' ? spec(d)['progressDeadlineSeconds'] as number : undefined
  const none: ReplicaSetState & { ready: number } = { name: '', replicas: 0, actual: 0, available: 0, ready: 0 }
  const input = {
    generation: d.metadata.generation ?? 1, desired, maxUnavailable,
    newRS: newRS ? stateOf(fresh(newRS)) : none, oldRSes: oldRSes.map((rs) => stateOf(fresh(rs))),
    previousConditions: (previous['conditions'] as DeploymentCondition[] | undefined) ?? [],
    now: formatTimestamp(clock.now()), paused: spec(d)['paused'] === true, previous: previous as PreviousCounts,
    ...(deadline === undefined ? {} : { progressDeadlineSeconds: deadline }),
  }
  const status = deploymentStatus(input)
  const revision = newRS?.metadata.annotations?.[revisionAnnotation]
  // onto the live object's annotations: `d` was read before this reconcile's writes, and a client's
  // annotation written since (kubectl annotate ... change-cause) must not be put back as it was
  const annotations = { ...(live.metadata.annotations ?? {}), ...(revision ? { [revisionAnnotation]: revision } : {}) }
  if (!sameJson(annotations, live.metadata.annotations ?? {})) {
    await client.update(resources.deployments, { ...live, metadata: { ...live.metadata, annotations } } as KubeObject)
    return undefined // the update re-triggers this Deployment; status follows then
  }
  if (!sameJson(status, previous)) await client.updateStatus(resources.deployments, { ...live, status: { ...previous, ...status } } as KubeObject)
  return input.paused ? undefined : progressRecheckMs(status, deadline, clock.now())
}
