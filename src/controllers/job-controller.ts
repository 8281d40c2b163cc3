/**
 * The Job controller: runs a Job's Pods (named <job>-<suffix>, owned by it) until completions
 * succeed or backoffLimit failures are reached, and writes the status. Thin shell over planJob.
 */
import { formatTimestamp, type Pod } from '../api/index.js'
import type { Clock } from '../runtime/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { planJob, type JobLike } from './job-plan.js'
import { ownerWatches } from './owner-watches.js'
import { podFromTemplate, templateOf } from './pod-template.js'
import { isControlledBy } from './replicaset-plan.js'
import { sameJson } from './same-json.js'

export function jobController(store: ObjectStore, client: ControllerClient, clock: Clock): ControllerDefinition {
  return {
    name: 'job-controller',
    ...ownerWatches(store, { resource: storage.jobs, kind: 'Job' }, storage.pods),
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key)
      const job = store.get({ resource: storage.jobs, namespace, name })
      if (!job || job.metadata.deletionTimestamp) return
      const pods = (store.list(storage.pods, { namespace }).items as unknown as Pod[]).filter((p) => isControlledBy(p, job.metadata.uid))
      const plan = planJob(job as unknown as JobLike, pods, formatTimestamp(clock.now()))
      const owner = { ...job, apiVersion: 'batch/v1', kind: 'Job' } as KubeObject
      for (let i = 0; i < plan.create; i++) await client.create(resources.pods, podFromTemplate(owner, templateOf(job), { generateName: `${name}-` }))
      for (const p of plan.delete) await client.delete(resources.pods, namespace, p.metadata.name ?? '', { preconditions: { uid: p.metadata.uid ?? '' } })
      const previous = (job['status'] as Record<string, unknown> | undefined) ?? {}
      if (sameJson(plan.status, previous)) return
      await client.updateStatus(resources.jobs, { ...job, status: plan.status } as KubeObject)
    },
  }
}
