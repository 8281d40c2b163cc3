/**
 * The CronJob controller: on the cluster clock, starts a Job from the jobTemplate at each
 * schedule time (owned by the CronJob, annotated with its scheduled time), honours
 * concurrencyPolicy, prunes history beyond the limits and asks to be woken for the next time.
 */
import type { Clock } from '../runtime/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { formatTimestamp } from '../api/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { planCronJob, scheduledTimestampAnnotation } from './cronjob-plan.js'
import { ownerWatches } from './owner-watches.js'
import { isControlledBy } from './replicaset-plan.js'
import { sameJson } from './same-json.js'

type Obj = Record<string, unknown>

function jobFrom(cj: KubeObject, name: string, scheduledMs: number): KubeObject {
  const template = ((cj['spec'] as Obj | undefined)?.['jobTemplate'] as { metadata?: Obj; spec?: Obj } | undefined) ?? {}
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name, namespace: cj.metadata.namespace ?? 'default',
      labels: { ...((template.metadata?.['labels'] as Record<string, string> | undefined) ?? {}) },
      annotations: { ...((template.metadata?.['annotations'] as Record<string, string> | undefined) ?? {}), [scheduledTimestampAnnotation]: formatTimestamp(scheduledMs) },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name ?? '', uid: cj.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(template.spec ?? {}),
  }
}

export function cronJobController(store: ObjectStore, client: ControllerClient, clock: Clock, onError?: (key: string, message: string) => void): ControllerDefinition {
  return {
    name: 'cronjob-controller',
    ...ownerWatches(store, { resource: storage.cronJobs, kind: 'CronJob' }, storage.jobs),
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key)
      const cj = store.get({ resource: storage.cronJobs, namespace, name })
      if (!cj || cj.metadata.deletionTimestamp) return undefined
      const jobs = store.list(storage.jobs, { namespace }).items.filter((j) => isControlledBy(j, cj.metadata.uid))
      const plan = planCronJob(cj, jobs, clock.now())
      if (plan.error) onError?.(key, plan.error)
      // Background: the GC takes the Jobs' Pods (upstream deletes them so too)
      for (const j of [...plan.replace, ...plan.prune]) await client.delete(resources.jobs, namespace, j.metadata.name ?? '', { propagationPolicy: 'Background' }).catch(() => undefined)
      let status = plan.status
      if (plan.start) {
        const made = await client.create(resources.jobs, jobFrom(cj, plan.start.name, plan.start.scheduledMs))
        const active = ((status['active'] as Obj[] | undefined) ?? []).filter((r) => !plan.replace.some((j) => j.metadata.uid === r['uid']))
        status = { ...status, active: [...active, { kind: 'Job', namespace, name: made.metadata.name, uid: made.metadata.uid, apiVersion: 'batch/v1', resourceVersion: made.metadata.resourceVersion }] }
      }
      const live = store.get({ resource: storage.cronJobs, namespace, name }) ?? cj
      if (!sameJson(status, live['status'] ?? {})) await client.updateStatus(resources.cronJobs, { ...live, status } as KubeObject)
      return plan.nextMs
    },
  }
}
