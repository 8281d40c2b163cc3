/**
 * Server-side defaults the served kinds get on every write (service type and protocols, pod
 * restart/DNS policy, workload strategies and pod templates, Job retries, secret type and stringData). Mutates the clone it is
 * given. An interim home until src/api owns defaulting.
 */
import type { KubeObject } from '../store/index.js'

type Obj = Record<string, unknown>

function objAt(o: Obj, key: string): Obj {
  const v = o[key]
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Obj
  const fresh: Obj = {}
  o[key] = fresh
  return fresh
}
function setDefault(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value
}
function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? (v as Obj[]) : []
}

function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'restartPolicy', 'Always')
  setDefault(spec, 'dnsPolicy', 'ClusterFirst')
  setDefault(spec, 'terminationGracePeriodSeconds', 30)
  setDefault(spec, 'schedulerName', 'default-scheduler')
  setDefault(spec, 'securityContext', {})
  for (const c of [...arr(spec['containers']), ...arr(spec['initContainers'])]) {
    const image = typeof c['image'] === 'string' ? c['image'] : ''
    const tag = image.includes('@') ? 'digest' : image.split('/').at(-1)?.split(':')[1]
    setDefault(c, 'imagePullPolicy', tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent')
    setDefault(c, 'terminationMessagePath', '/dev/termination-log')
    setDefault(c, 'terminationMessagePolicy', 'File')
    setDefault(c, 'resources', {})
    for (const p of arr(c['ports'])) setDefault(p, 'protocol', 'TCP')
  }
}

/** A Job's spec (also a CronJob's jobTemplate.spec): one pod at a time, six retries, its pod template's defaults. */
function defaultJobSpec(spec: Obj): void {
  if (spec['completions'] === undefined && spec['parallelism'] === undefined) {
    spec['completions'] = 1
    spec['parallelism'] = 1
  }
  setDefault(spec, 'parallelism', 1)
  setDefault(spec, 'backoffLimit', 6)
  setDefault(spec, 'completionMode', 'NonIndexed')
  setDefault(spec, 'suspend', false)
  defaultPodSpec(objAt(objAt(spec, 'template'), 'spec'))
}

/**
 * kube-apiserver's generated Job selector: unless spec.manualSelector, the Job selects its own
 * uid, and its pod template carries that uid and the Job's name as labels.
 */
function generateJobSelector(o: KubeObject): void {
  const spec = objAt(o, 'spec')
  const uid = o.metadata.uid
  if (spec['manualSelector'] === true || spec['selector'] !== undefined || !uid) return
  spec['selector'] = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } }
  const meta = objAt(objAt(spec, 'template'), 'metadata')
  meta['labels'] = {
    ...((meta['labels'] as Record<string, string> | undefined) ?? {}),
    'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': o.metadata.name ?? '', 'controller-uid': uid, 'job-name': o.metadata.name ?? '',
  }
}

export function applyDefaults(o: KubeObject, kind: string): void {
  switch (kind) {
    case 'Service': {
      const spec = objAt(o, 'spec')
      setDefault(spec, 'type', 'ClusterIP')
      setDefault(spec, 'sessionAffinity', 'None')
      if (spec['type'] !== 'ExternalName') setDefault(spec, 'internalTrafficPolicy', 'Cluster')
      if (spec['type'] === 'NodePort' || spec['type'] === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster')
      for (const p of arr(spec['ports'])) {
        setDefault(p, 'protocol', 'TCP')
        setDefault(p, 'targetPort', p['port'])
      }
      break
    }
    case 'Pod': defaultPodSpec(objAt(o, 'spec')); break
    case 'Deployment': {
      const spec = objAt(o, 'spec')
      setDefault(spec, 'replicas', 1)
      setDefault(spec, 'revisionHistoryLimit', 10)
      setDefault(spec, 'progressDeadlineSeconds', 600)
      const strategy = objAt(spec, 'strategy')
      setDefault(strategy, 'type', 'RollingUpdate')
      if (strategy['type'] === 'RollingUpdate') {
        const ru = objAt(strategy, 'rollingUpdate')
        setDefault(ru, 'maxSurge', '25%')
        setDefault(ru, 'maxUnavailable', '25%')
      }
      defaultPodSpec(objAt(objAt(spec, 'template'), 'spec'))
      break
    }
    case 'ReplicaSet': {
      const spec = objAt(o, 'spec')
      setDefault(spec, 'replicas', 1)
      defaultPodSpec(objAt(objAt(spec, 'template'), 'spec'))
      break
    }
    case 'StatefulSet': {
      const spec = objAt(o, 'spec')
      setDefault(spec, 'replicas', 1)
      setDefault(spec, 'podManagementPolicy', 'OrderedReady')
      setDefault(spec, 'revisionHistoryLimit', 10)
      setDefault(spec, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' })
      const strategy = objAt(spec, 'updateStrategy')
      setDefault(strategy, 'type', 'RollingUpdate')
      if (strategy['type'] === 'RollingUpdate') setDefault(objAt(strategy, 'rollingUpdate'), 'partition', 0)
      defaultPodSpec(objAt(objAt(spec, 'template'), 'spec'))
      break
    }
    case 'DaemonSet': {
      const spec = objAt(o, 'spec')
      setDefault(spec, 'revisionHistoryLimit', 10)
      const strategy = objAt(spec, 'updateStrategy')
      setDefault(strategy, 'type', 'RollingUpdate')
      if (strategy['type'] === 'RollingUpdate') {
        const ru = objAt(strategy, 'rollingUpdate')
        setDefault(ru, 'maxUnavailable', 1)
        setDefault(ru, 'maxSurge', 0)
      }
      defaultPodSpec(objAt(objAt(spec, 'template'), 'spec'))
      break
    }
    case 'ReplicationController': {
      const spec = objAt(o, 'spec')
      setDefault(spec, 'replicas', 1)
      // An RC without a selector selects its template's labels.
      const labels = objAt(objAt(spec, 'template'), 'metadata')['labels']
      if (spec['selector'] === undefined && typeof labels === 'object' && labels !== null) spec['selector'] = { ...labels }
      defaultPodSpec(objAt(objAt(spec, 'template'), 'spec'))
      break
    }
    case 'Job': defaultJobSpec(objAt(o, 'spec')); generateJobSelector(o); break
    case 'CronJob': {
      const spec = objAt(o, 'spec')
      setDefault(spec, 'concurrencyPolicy', 'Allow')
      setDefault(spec, 'suspend', false)
      setDefault(spec, 'successfulJobsHistoryLimit', 3)
      setDefault(spec, 'failedJobsHistoryLimit', 1)
      defaultJobSpec(objAt(objAt(spec, 'jobTemplate'), 'spec'))
      break
    }
    case 'Secret': {
      setDefault(o, 'type', 'Opaque')
      const stringData = o['stringData']
      if (typeof stringData === 'object' && stringData !== null) {
        const data = objAt(o, 'data')
        for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v)).toString('base64')
        delete o['stringData']
      }
      break
    }
    case 'Namespace': {
      o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name ?? '' }
      setDefault(objAt(o, 'spec'), 'finalizers', ['kubernetes'])
      break
    }
    default: break
  }
}
