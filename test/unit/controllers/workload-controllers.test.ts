/**
 * The StatefulSet, DaemonSet, Job and CronJob controllers: their pure plans row by row, the
 * emulated container exits a Job's Pods end with, and the Job and CronJob controllers driven on a
 * fake clock against a real API server (its write pipeline and garbage collector).
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { Node, Pod } from '../../../src/api/index.js'
import { ApiServer, LocalApiClient, randomIds } from '../../../src/apiserver/index.js'
import {
  cronJobController, daemonTolerations, jobController, jobNameFor, parseSchedule, planCronJob, planDaemonSet, planJob, planStatefulSet, resources,
  type JobLike, type StatefulSetLike,
} from '../../../src/controllers/index.js'
import { containerExit, podExit } from '../../../src/kubelet/container-exit.js'
import { openMemoryStore, type KubeObject, type VersionedStore } from '../../../src/store/index.js'

const now = '2026-01-01T00:00:00Z'
const ready = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }
function pod(name: string, status: Record<string, unknown> = ready, extra: { labels?: Record<string, string>; nodeName?: string; deleting?: boolean } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: now, ...(extra.labels ? { labels: extra.labels } : {}), ...(extra.deleting ? { deletionTimestamp: now } : {}) },
    spec: { containers: [{ name: 'c', image: 'x' }], ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) }, status,
  } as Pod
}

describe('Job plan', () => {
  const job = (spec: JobLike['spec'], status?: Record<string, unknown>): JobLike => ({ metadata: { generation: 1 }, spec, ...(status ? { status } : {}) })

  it('starts min(parallelism, remaining completions) Pods and completes at the completion count', () => {
    expect(planJob(job({ completions: 3, parallelism: 2 }), [], now).create).toBe(2)
    expect(planJob(job({ completions: 3, parallelism: 2 }), [pod('a', { phase: 'Succeeded' }), pod('b', { phase: 'Succeeded' }), pod('c', { phase: 'Running' })], now).create).toBe(0)
    const done = planJob(job({ completions: 2, parallelism: 2 }), [pod('a', { phase: 'Succeeded' }), pod('b', { phase: 'Succeeded' })], now)
    expect(done.status).toMatchObject({ succeeded: 2, completionTime: now, conditions: [{ type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached' }, { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }] })
    expect(done.status['active']).toBeUndefined()
  })

  it('fails past backoffLimit and stops the Pods still running', () => {
    const running = pod('r', { phase: 'Running' })
    const plan = planJob(job({ completions: 1, parallelism: 2, backoffLimit: 1 }), [pod('a', { phase: 'Failed' }), pod('b', { phase: 'Failed' }), running], now)
    expect(plan.create).toBe(0)
    expect(plan.delete).toEqual([running])
    expect(plan.status).toMatchObject({ failed: 2, conditions: [{ type: 'FailureTarget', reason: 'BackoffLimitExceeded' }, { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] })
    // below the limit a failed Pod is replaced
    expect(planJob(job({ completions: 1, parallelism: 1, backoffLimit: 2 }), [pod('a', { phase: 'Failed' })], now).create).toBe(1)
  })

  it('counts in-place container restarts of OnFailure Pods against backoffLimit, as upstream', () => {
    const restarting = (n: number): Pod => ({ ...pod('r', { phase: 'Running', containerStatuses: [{ name: 'c', restartCount: n }] }), spec: { containers: [{ name: 'c', image: 'x' }], restartPolicy: 'OnFailure' } }) as Pod
    expect(planJob(job({ completions: 1, backoffLimit: 3 }), [restarting(2)], now).status['conditions']).toBeUndefined()
    expect(planJob(job({ completions: 1, backoffLimit: 3 }), [restarting(3)], now).status).toMatchObject({ conditions: [{ type: 'FailureTarget', reason: 'BackoffLimitExceeded' }, { type: 'Failed' }] })
    expect(planJob(job({ completions: 1, backoffLimit: 0 }), [restarting(1)], now).status).toMatchObject({ conditions: [{ type: 'FailureTarget' }, { type: 'Failed' }] })
  })
})

describe('emulated container exits', () => {
  it.each([
    [['true'], { afterMs: 0, exitCode: 0 }],
    [['false'], { afterMs: 0, exitCode: 1 }],
    [['sleep', '2'], { afterMs: 2000, exitCode: 0 }],
    [['sh', '-c', 'exit 3'], { afterMs: 0, exitCode: 3 }],
    [['/bin/sh', '-c', 'sleep 1; exit 0'], { afterMs: 1000, exitCode: 0 }],
    [['sh', '-c', 'sleep 1 && false'], { afterMs: 1000, exitCode: 1 }],
    [['sh', '-c', 'curl http://web'], undefined],
    [['/agnhost', 'netexec'], undefined],
  ])('%j ends with %j', (command, expected) => {
    expect(containerExit({ name: 'c', image: 'busybox', command })).toEqual(expected)
  })

  it('only Pods that may finish end, once their last container has', () => {
    const c = [{ name: 'a', image: 'busybox', command: ['sleep', '1'] }, { name: 'b', image: 'busybox', command: ['false'] }]
    expect(podExit(c, 'Never')).toEqual({ afterMs: 1000, exits: [{ afterMs: 1000, exitCode: 0 }, { afterMs: 0, exitCode: 1 }] })
    expect(podExit(c, 'Always')).toBeUndefined()
    expect(podExit([...c, { name: 'srv', image: 'nginx' }], 'Never')).toBeUndefined()
  })
})

describe('StatefulSet plan', () => {
  const set = (replicas: number, extra: Partial<NonNullable<StatefulSetLike['spec']>> = {}, currentRevision?: string): StatefulSetLike =>
    ({ metadata: { name: 'web', generation: 1 }, spec: { replicas, ...extra }, ...(currentRevision ? { status: { currentRevision } } : {}) })
  const rev = (r: string): { labels: Record<string, string> } => ({ labels: { 'controller-revision-hash': r } })

  it('OrderedReady creates one ordinal at a time, after its predecessors are Running and Ready', () => {
    expect(planStatefulSet(set(3), [], 'r1').create).toEqual([0])
    expect(planStatefulSet(set(3), [pod('web-0', { phase: 'Pending' }, rev('r1'))], 'r1').create).toEqual([])
    expect(planStatefulSet(set(3), [pod('web-0', ready, rev('r1'))], 'r1').create).toEqual([1])
  })

  it('Parallel creates every missing ordinal and removes every condemned one at once', () => {
    expect(planStatefulSet(set(3, { podManagementPolicy: 'Parallel' }), [pod('web-1', ready, rev('r1'))], 'r1').create).toEqual([0, 2])
    const plan = planStatefulSet(set(1, { podManagementPolicy: 'Parallel' }), ['web-0', 'web-1', 'web-2'].map((n) => pod(n, ready, rev('r1'))), 'r1')
    expect(plan.delete.map((p) => p.metadata.name)).toEqual(['web-2', 'web-1'])
  })

  it('scales down from the highest ordinal, one at a time', () => {
    const plan = planStatefulSet(set(1), ['web-0', 'web-1', 'web-2'].map((n) => pod(n, ready, rev('r1'))), 'r1')
    expect(plan.delete.map((p) => p.metadata.name)).toEqual(['web-2'])
    expect(plan.status).toMatchObject({ replicas: 3, readyReplicas: 3, currentRevision: 'r1', updateRevision: 'r1' })
  })

  it('rolls from the highest ordinal down to the partition, one Pod at a time', () => {
    const pods = ['web-0', 'web-1', 'web-2'].map((n) => pod(n, ready, rev('old')))
    const plan = planStatefulSet(set(3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }, 'old'), pods, 'new')
    expect(plan.delete.map((p) => p.metadata.name)).toEqual(['web-2'])
    const later = planStatefulSet(set(3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }, 'old'), [pods[0]!, pod('web-1', ready, rev('new')), pod('web-2', ready, rev('new'))], 'new')
    expect(later.delete).toEqual([])
    expect(later.status).toMatchObject({ currentRevision: 'old', updatedReplicas: 2, currentReplicas: 1 })
    expect(planStatefulSet(set(3, { updateStrategy: { type: 'OnDelete' } }, 'old'), pods, 'new').delete).toEqual([])
  })
})

describe('DaemonSet plan', () => {
  const node = (name: string, extra: { taints?: unknown[]; labels?: Record<string, string>; unschedulable?: boolean } = {}): Node =>
    ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: extra.labels ?? {} }, spec: { ...(extra.taints ? { taints: extra.taints } : {}), ...(extra.unschedulable ? { unschedulable: true } : {}) } }) as Node
  const template = (spec: Record<string, unknown> = {}): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: [], tolerations: daemonTolerations(false), ...spec } }) as Pod
  const nodes = [node('a'), node('b', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), node('c', { labels: { disk: 'ssd' }, unschedulable: true })]
  const input = { generation: 1, revision: 'r1', rollingUpdate: true, maxUnavailable: 1, nodes, pods: [] as Pod[] }

  it('puts one Pod on every untainted Node (cordoned ones too), honouring tolerations and nodeSelector', () => {
    expect(planDaemonSet({ ...input, templatePod: template() }).create).toEqual(['a', 'c'])
    const tolerant = template({ tolerations: [...daemonTolerations(false), { key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }] })
    expect(planDaemonSet({ ...input, templatePod: tolerant }).create).toEqual(['a', 'b', 'c'])
    expect(planDaemonSet({ ...input, templatePod: template({ nodeSelector: { disk: 'ssd' } }) }).create).toEqual(['c'])
  })

  it('removes Pods from Nodes that no longer fit and rolls at most maxUnavailable at a time', () => {
    const rev = (r: string): { labels: Record<string, string> } => ({ labels: { 'controller-revision-hash': r } })
    const pods = [pod('ds-a', ready, { ...rev('r0'), nodeName: 'a' }), pod('ds-b', ready, { ...rev('r0'), nodeName: 'b' }), pod('ds-c', ready, { ...rev('r0'), nodeName: 'c' })]
    const plan = planDaemonSet({ ...input, templatePod: template(), pods })
    expect(plan.delete.map((p) => p.metadata.name)).toEqual(['ds-b', 'ds-a'])
    expect(plan.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberMisscheduled: 1, numberReady: 2, updatedNumberScheduled: 0 })
  })
})

describe('CronJob schedule', () => {
  it('finds the latest missed time since the last run and the next one, in the time zone asked', () => {
    const s = parseSchedule('*/5 * * * *', undefined)
    const t = Date.parse('2026-01-01T00:07:00Z')
    expect(new Date(s.mostRecent(Date.parse('2026-01-01T00:00:00Z'), t)!).toISOString()).toBe('2026-01-01T00:05:00.000Z')
    expect(s.mostRecent(Date.parse('2026-01-01T00:05:00Z'), t)).toBeUndefined()
    expect(new Date(s.next(t)).toISOString()).toBe('2026-01-01T00:10:00.000Z')
    const berlin = parseSchedule('0 9 * * *', 'Europe/Berlin')
    expect(new Date(berlin.next(t)).toISOString()).toBe('2026-01-01T08:00:00.000Z')
    expect(() => parseSchedule('* * * * * *', undefined)).toThrow(/5 fields/)
    expect(() => parseSchedule('61 * * * *', undefined)).toThrow()
    expect(() => parseSchedule('* * * * *', 'Not/AZone')).toThrow()
    expect(jobNameFor('backup', Date.parse('2026-01-01T00:05:00Z'))).toBe('backup-29453765')
  })

  it('replaces the active Job under concurrencyPolicy Replace', () => {
    const cj = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj', namespace: 'default', uid: 'u', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { schedule: '* * * * *', concurrencyPolicy: 'Replace' } } as KubeObject
    const active = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'cj-1', namespace: 'default', uid: 'j1' }, status: {} } as KubeObject
    const plan = planCronJob(cj, [active], Date.parse('2026-01-01T00:01:10Z'))
    expect(plan.start?.name).toBe(jobNameFor('cj', Date.parse('2026-01-01T00:01:00Z')))
    expect(plan.replace).toEqual([active])
  })
})

describe('Job and CronJob controllers on a fake clock', () => {
  let server: ApiServer | undefined
  let store: VersionedStore | undefined
  afterEach(async () => {
    await server?.close()
    await store?.close()
  })

  it('a CronJob fires at its schedule time, Forbid skips while a Job runs, history is pruned; its Job completes', async () => {
    let t = Date.parse('2026-01-01T00:00:30Z')
    const clock = { now: () => t }
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0, clock, admissionHooks: [] })
    const client = new LocalApiClient({ store, clock, ids: randomIds, admissionHooks: server.admissionHooks, catalogue: server.catalogue, afterDelete: server.garbageCollector.deps.afterDelete })
    const cron = cronJobController(store, client, clock)
    const jobs = jobController(store, client, clock)
    await client.create(resources.cronJobs, {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick', namespace: 'default' },
      spec: { schedule: '* * * * *', concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 1, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] } } } } },
    })
    const list = (resource: string): KubeObject[] => [...store!.list(resource, { namespace: 'default' }).items]
    expect(await cron.reconcile('default/tick')).toBe(30_001)
    expect(list('jobs.batch')).toEqual([])

    t = Date.parse('2026-01-01T00:01:05Z')
    await cron.reconcile('default/tick')
    const first = jobNameFor('tick', Date.parse('2026-01-01T00:01:00Z'))
    expect(list('jobs.batch').map((j) => j.metadata.name)).toEqual([first])
    expect(store.get({ resource: 'cronjobs.batch', namespace: 'default', name: 'tick' })!['status']).toMatchObject({ lastScheduleTime: '2026-01-01T00:01:00Z', active: [{ name: first }] })

    // the Job runs one Pod; it succeeds (as the kubelet would report), and the Job completes
    await jobs.reconcile(`default/${first}`)
    const [p] = list('pods')
    expect(p!.metadata.labels).toMatchObject({ 'batch.kubernetes.io/job-name': first })
    t = Date.parse('2026-01-01T00:02:05Z')
    await cron.reconcile('default/tick')
    expect(list('jobs.batch')).toHaveLength(1) // Forbid: the first Job is still active
    await client.updateStatus(resources.pods, { ...p!, status: { phase: 'Succeeded' } } as KubeObject)
    await jobs.reconcile(`default/${first}`)
    expect(store.get({ resource: 'jobs.batch', namespace: 'default', name: first })!['status']).toMatchObject({ succeeded: 1, conditions: [{ type: 'SuccessCriteriaMet' }, { type: 'Complete', status: 'True' }] })

    t = Date.parse('2026-01-01T00:03:05Z')
    await cron.reconcile('default/tick')
    const second = jobNameFor('tick', Date.parse('2026-01-01T00:03:00Z'))
    expect(list('jobs.batch').map((j) => j.metadata.name).sort()).toEqual([first, second].sort())
    await jobs.reconcile(`default/${second}`)
    const p2 = list('pods').find((x) => x.metadata.labels?.['batch.kubernetes.io/job-name'] === second)!
    await client.updateStatus(resources.pods, { ...p2, status: { phase: 'Succeeded' } } as KubeObject)
    await jobs.reconcile(`default/${second}`)
    t = Date.parse('2026-01-01T00:03:30Z')
    await cron.reconcile('default/tick')
    // successfulJobsHistoryLimit 1: the older finished Job goes, and its Pod with it
    expect(list('jobs.batch').map((j) => j.metadata.name)).toEqual([second])
    await server.garbageCollector.idle()
    expect(list('pods').map((x) => x.metadata.labels?.['batch.kubernetes.io/job-name'])).toEqual([second])
  })
})

describe('plans driven to their end (properties)', () => {
  it('a Job never runs more than parallelism Pods nor succeeds more than completions, and ends', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
      (completions, parallelism, backoffLimit, outcomes) => {
        let pods: Pod[] = []
        let status: Record<string, unknown> | undefined
        for (let step = 0, n = 0; step < 60; step++) {
          const plan = planJob({ metadata: { generation: 1 }, spec: { completions, parallelism, backoffLimit }, ...(status ? { status } : {}) }, pods, now)
          status = plan.status
          pods = pods.filter((p) => !plan.delete.includes(p))
          for (let i = 0; i < plan.create; i++) pods.push(pod(`p${n++}`, { phase: 'Running' }))
          const running = pods.filter((p) => p.status?.phase === 'Running')
          expect(running.length).toBeLessThanOrEqual(parallelism)
          expect(pods.filter((p) => p.status?.phase === 'Succeeded').length).toBeLessThanOrEqual(completions)
          if ((status['conditions'] as { type: string }[] | undefined)?.some((c) => c.type === 'Complete' || c.type === 'Failed')) return
          // the oldest running Pod ends, succeeding or failing as drawn
          const first = running[0]
          if (first) pods = pods.map((p) => (p === first ? pod(p.metadata.name!, { phase: outcomes[step % outcomes.length] ? 'Succeeded' : 'Failed' }) : p))
        }
        throw new Error('the Job did not end')
      }), { seed: 14, numRuns: 200 })
  })

  it('an OrderedReady StatefulSet reaches any size from any size, creating in order and removing from the top', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), (from, to) => {
      let pods = Array.from({ length: from }, (_, i) => pod(`web-${i}`, ready, { labels: { 'controller-revision-hash': 'r' } }))
      for (let step = 0; step < 30; step++) {
        const plan = planStatefulSet({ metadata: { name: 'web' }, spec: { replicas: to } }, pods, 'r')
        expect(plan.create.length + plan.delete.length).toBeLessThanOrEqual(1)
        if (plan.create[0] !== undefined) expect(plan.create[0]).toBe(pods.length)
        if (plan.delete[0]) expect(plan.delete[0].metadata.name).toBe(`web-${pods.length - 1}`)
        pods = [...pods.filter((p) => !plan.delete.includes(p)), ...plan.create.map((o) => pod(`web-${o}`, ready, { labels: { 'controller-revision-hash': 'r' } }))]
        if (plan.create.length === 0 && plan.delete.length === 0) break
      }
      expect(pods.map((p) => p.metadata.name)).toEqual(Array.from({ length: to }, (_, i) => `web-${i}`))
    }), { seed: 15, numRuns: 100 })
  })
})
