/**
 * Deployment semantics beyond the rolling planner: the template hash of kubectl's rollback body,
 * paused and progress-deadline conditions, scaling while paused, Recreate waiting for terminating
 * Pods, revision bookkeeping of a reused ReplicaSet, minReadySeconds; then the controllers in
 * process (fake kubelet) for pause/resume and `rollout undo` reusing the old ReplicaSet.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Pod } from '../../../src/api/index.js'
import { startControlPlane, type ControlPlane } from '../../../src/cluster/index.js'
import {
  computePodTemplateHash, deploymentStatus, planRollout, planScaleOnly, podAvailability, replicaSetAnnotations, resources, revisionAnnotation,
  revisionHistoryAnnotation, type DeploymentCondition, type ReplicaSetState,
} from '../../../src/controllers/index.js'
import type { KubeObject } from '../../../src/store/index.js'

const rs = (name: string, replicas: number, available = replicas): ReplicaSetState & { ready: number } => ({ name, replicas, actual: replicas, available, ready: available })
const t0 = Date.parse('2026-01-01T00:00:00Z')
const at = (s: number): string => new Date(t0 + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z')
const progressing = (s: Record<string, unknown>): DeploymentCondition | undefined => (s['conditions'] as DeploymentCondition[]).find((c) => c.type === 'Progressing')

describe('pod-template-hash of a rollback', () => {
  it('hashes kubectl\'s `creationTimestamp: null` like an absent field', () => {
    const t = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } }
    expect(computePodTemplateHash({ ...t, metadata: { ...t.metadata, creationTimestamp: null } })).toBe(computePodTemplateHash(t))
  })
})

describe('Progressing condition', () => {
  const base = { generation: 2, desired: 2, maxUnavailable: 0, newRS: rs('web-new', 1, 0), oldRSes: [rs('web-old', 2)] }

  it('is Unknown/DeploymentPaused while paused and DeploymentResumed after', () => {
    const paused = deploymentStatus({ ...base, now: at(0), previousConditions: [], paused: true })
    expect(progressing(paused)).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' })
    const resumed = deploymentStatus({ ...base, now: at(5), previousConditions: paused['conditions'] as DeploymentCondition[] })
    expect(progressing(resumed)).toMatchObject({ status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' })
  })

  it('times out with ProgressDeadlineExceeded when nothing moves for progressDeadlineSeconds, and progress refreshes it', () => {
    const first = deploymentStatus({ ...base, now: at(0), previousConditions: [], progressDeadlineSeconds: 10 })
    expect(progressing(first)).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "web-new" is progressing.', lastUpdateTime: at(0) })
    const prev = first['conditions'] as DeploymentCondition[]
    const still = deploymentStatus({ ...base, now: at(9), previousConditions: prev, progressDeadlineSeconds: 10, previous: first })
    expect(progressing(still)).toEqual(progressing(first))
    const moved = deploymentStatus({ ...base, newRS: rs('web-new', 1, 1), now: at(9), previousConditions: prev, progressDeadlineSeconds: 10, previous: first })
    expect(progressing(moved)).toMatchObject({ reason: 'ReplicaSetUpdated', lastUpdateTime: at(9), lastTransitionTime: at(0) })
    const late = deploymentStatus({ ...base, now: at(11), previousConditions: prev, progressDeadlineSeconds: 10, previous: first })
    expect(progressing(late)).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-new" has timed out progressing.' })
  })
})

describe('rollout planning', () => {
  it('only scales while paused: the one active ReplicaSet follows spec.replicas', () => {
    expect([...planScaleOnly(5, undefined, [rs('a', 0), rs('b', 3)])]).toEqual([['b', 5]])
    expect([...planScaleOnly(5, rs('n', 2), [rs('o', 2)])]).toEqual([])
  })

  it('Recreate waits for terminating old Pods before starting new ones', () => {
    const old = { name: 'old', replicas: 0, actual: 0, available: 0, terminating: 2 }
    expect([...planRollout({ desired: 2, strategy: { type: 'Recreate' }, newRS: rs('new', 0), oldRSes: [old] })]).toEqual([])
    expect([...planRollout({ desired: 2, strategy: { type: 'Recreate' }, newRS: rs('new', 0), oldRSes: [{ ...old, terminating: 0 }] })]).toEqual([['new', 2]])
  })
})

describe('ReplicaSet annotations', () => {
  const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', annotations: { 'kubernetes.io/change-cause': 'v2', 'kubectl.kubernetes.io/last-applied-configuration': '{}', [revisionAnnotation]: '2' } } } as KubeObject

  it('moves a reused ReplicaSet to the next revision and remembers the old one', () => {
    const out = replicaSetAnnotations(d, { [revisionAnnotation]: '1' }, 3, 2, 1)
    expect(out).toEqual({ 'kubernetes.io/change-cause': 'v2', [revisionAnnotation]: '3', [revisionHistoryAnnotation]: '1', 'deployment.kubernetes.io/desired-replicas': '2', 'deployment.kubernetes.io/max-replicas': '3' })
    expect(replicaSetAnnotations(d, out, 3, 2, 1)).toEqual(out)
  })
})

describe('minReadySeconds', () => {
  const pod = (readySince: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] }, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: readySince }] } }) as Pod
  it('counts a ready Pod available only after it has been ready that long', () => {
    expect(podAvailability(pod(at(0)), 5, t0 + 2_000)).toEqual({ available: false, inMs: 3_000 })
    expect(podAvailability(pod(at(0)), 5, t0 + 5_000)).toEqual({ available: true })
    expect(podAvailability(pod(at(0)), 0, t0)).toEqual({ available: true })
  })
})

describe('the Deployment controller in process', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  async function controlPlane(): Promise<ControlPlane> {
    const dir = await mkdtemp(join(tmpdir(), 'kpe-deploy-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const cp = await startControlPlane({ dataDir: dir, port: 0, fakeKubelet: { terminationDelayMs: 10 } })
    cleanups.push(() => cp.stop())
    return cp
  }

  const deployment = (image: string): KubeObject => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } } },
  })
  const get = (cp: ControlPlane): KubeObject => cp.store.get({ resource: 'deployments.apps', namespace: 'default', name: 'web' })!
  const replicaSets = (cp: ControlPlane): KubeObject[] => [...cp.store.list('replicasets.apps', { namespace: 'default' }).items]
  const withTemplate = (d: KubeObject, template: unknown, extra: Record<string, unknown> = {}): KubeObject => ({ ...d, spec: { ...(d['spec'] as object), template, ...extra } } as KubeObject)
  const image = (o: KubeObject): string => ((o['spec'] as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image)

  it('rollout undo (the old template back, creationTimestamp: null) reuses the old ReplicaSet as revision 3', async () => {
    const cp = await controlPlane()
    await cp.client.create(resources.deployments, deployment('nginx:1.27'))
    await cp.controllers.idle()
    const v1 = replicaSets(cp)
    expect(v1).toHaveLength(1)
    await cp.client.update(resources.deployments, withTemplate(get(cp), (deployment('nginx:1.28')['spec'] as { template: unknown }).template))
    await cp.controllers.idle()
    expect(replicaSets(cp)).toHaveLength(2)

    const old = v1[0]!
    const template = structuredClone((old['spec'] as { template: { metadata: Record<string, unknown> } }).template)
    delete (template.metadata['labels'] as Record<string, string>)['pod-template-hash']
    template.metadata['creationTimestamp'] = null
    await cp.client.update(resources.deployments, withTemplate(get(cp), template))
    await cp.controllers.idle()
    const after = replicaSets(cp)
    expect(after).toHaveLength(2)
    const reused = (): KubeObject => replicaSets(cp).find((r) => r.metadata.name === old.metadata.name)!
    expect(reused().metadata.annotations).toMatchObject({ [revisionAnnotation]: '3', [revisionHistoryAnnotation]: '1' })
    for (let i = 0; i < 100 && (reused()['spec'] as { replicas: number }).replicas !== 2; i++) await new Promise((r) => setTimeout(r, 50))
    expect((reused()['spec'] as { replicas: number }).replicas).toBe(2)
    expect(get(cp).metadata.annotations?.[revisionAnnotation]).toBe('3')
  })

  it('a paused Deployment starts no rollout until resumed', async () => {
    const cp = await controlPlane()
    await cp.client.create(resources.deployments, deployment('nginx:1.27'))
    await cp.controllers.idle()
    await cp.client.update(resources.deployments, withTemplate(get(cp), (deployment('nginx:1.28')['spec'] as { template: unknown }).template, { paused: true }))
    await cp.controllers.idle()
    expect(replicaSets(cp).map(image)).toEqual(['nginx:1.27'])
    expect(progressing(get(cp)['status'] as Record<string, unknown>)).toMatchObject({ reason: 'DeploymentPaused' })
    const d = get(cp)
    await cp.client.update(resources.deployments, { ...d, spec: { ...(d['spec'] as object), paused: false } } as KubeObject)
    await cp.controllers.idle()
    expect(replicaSets(cp).map(image).sort()).toEqual(['nginx:1.27', 'nginx:1.28'])
  })
})
