/**
 * Table printers for the built-in kinds kpe stores without a controller (StatefulSet, Job, RBAC,
 * storage, policy, networking, ...): the columns and cell formats of kube-apiserver's printers,
 * keyed by resource. Pure apart from the `now` given for ages and durations.
 */
import type { KubeObject } from '../store/index.js'
import { humanDuration } from './human-duration.js'
import { age, ageCol, arr, at, col, formatLabelSelector, formatSelector, nameCol, num, str, summarize, type Printer } from './table-cells.js'

const name = (o: KubeObject): string => o.metadata.name ?? ''
const createdAt = col('Created At', { format: 'date' })
const wide = (n: string): ReturnType<typeof col> => col(n, { wide: true })
const containersCols = [wide('Containers'), wide('Images')]

function podSpecContainers(podSpec: unknown): [string, string] {
  const cs = arr(podSpec, 'containers')
  return [cs.map((c) => str(c['name'])).join(','), cs.map((c) => str(c['image'])).join(',')]
}

function hasCondition(o: unknown, type: string): boolean {
  return arr(o, 'status', 'conditions').some((c) => c['type'] === type && c['status'] === 'True')
}

function sinceOr(now: number, ts: unknown, none: string): string {
  return typeof ts === 'string' && ts !== '' ? humanDuration(now - Date.parse(ts)) : none
}

/** A Job's STATUS column, in kube-apiserver's order of precedence. */
function jobStatus(o: KubeObject): string {
  if (hasCondition(o, 'Complete')) return 'Complete'
  if (hasCondition(o, 'Failed')) return 'Failed'
  if (o.metadata.deletionTimestamp) return 'Terminating'
  if (hasCondition(o, 'FailureTarget')) return 'FailureTarget'
  if (hasCondition(o, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet'
  if (at(o, 'spec', 'suspend') === true) return 'Suspended'
  return 'Running'
}

function jobCompletions(o: KubeObject): string {
  const succeeded = num(at(o, 'status', 'succeeded'))
  const completions = at(o, 'spec', 'completions')
  if (typeof completions === 'number') return `${succeeded}/${completions}`
  const parallelism = at(o, 'spec', 'parallelism')
  return `${succeeded}/1 of ${typeof parallelism === 'number' ? parallelism : 1}`
}

function jobDuration(o: KubeObject, now: number): string {
  const start = str(at(o, 'status', 'startTime'))
  if (!start) return ''
  const end = str(at(o, 'status', 'completionTime'))
  return humanDuration((end ? Date.parse(end) : now) - Date.parse(start))
}

/** HPA TARGETS: "cpu: <unknown>/80%" for each metric, kube's format for resource metrics. */
function hpaTargets(o: KubeObject): string {
  const current = arr(o, 'status', 'currentMetrics')
  const specs = arr(o, 'spec', 'metrics')
  if (specs.length === 0) return '<none>'
  const list = specs.map((m, i) => {
    if (m['type'] !== 'Resource' && m['type'] !== 'ContainerResource') return '<unknown>/<unknown>'
    const kind = m['type'] === 'Resource' ? 'resource' : 'containerResource'
    const target = at(m, kind, 'target')
    const cur = at(current[i], kind, 'current')
    const resourceName = str(at(m, kind, 'name'))
    const util = at(target, 'averageUtilization')
    if (typeof util === 'number') {
      const c = at(cur, 'averageUtilization')
      return `${resourceName}: ${typeof c === 'number' ? `${c}%` : '<unknown>'}/${util}%`
    }
    const value = str(at(target, 'averageValue')) || str(at(target, 'value'))
    const c = str(at(cur, 'averageValue')) || str(at(cur, 'value'))
    return `${resourceName}: ${c || '<unknown>'}/${value}`
  })
  return list.length > 2 ? `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...` : list.join(', ')
}

function loadBalancerAddresses(o: KubeObject): string {
  return arr(o, 'status', 'loadBalancer', 'ingress').map((i) => str(i['ip']) || str(i['hostname'])).filter((x) => x).join(',')
}

function ingressHosts(o: KubeObject): string {
  const hosts = arr(o, 'spec', 'rules').map((r) => str(r['host'])).filter((h) => h)
  return hosts.length === 0 ? '*' : summarize(hosts)
}

const accessModeShort: Readonly<Record<string, string>> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' }
function accessModes(o: unknown): string {
  const modes = (at(o, 'accessModes') as unknown[] | undefined) ?? []
  return modes.map((m) => accessModeShort[String(m)] ?? String(m)).join(',')
}

function bindingSubjects(o: KubeObject, kind: string): string {
  return arr(o, 'subjects').filter((s) => s['kind'] === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${str(s['namespace'])}:${str(s['name'])}` : str(s['name']))).join(', ')
}

/** ResourceQuota REQUEST or LIMIT: "pods: 1/10, ..." for the hard limits of that half. */
function quotaUsage(o: KubeObject, limits: boolean): string {
  const hard = (at(o, 'status', 'hard') ?? at(o, 'spec', 'hard') ?? {}) as Record<string, unknown>
  const used = (at(o, 'status', 'used') ?? {}) as Record<string, unknown>
  return Object.keys(hard).sort().filter((k) => k.startsWith('limits.') === limits)
    .map((k) => `${k}: ${str(used[k], '0')}/${str(hard[k])}`).join(', ')
}

function csrCondition(o: KubeObject): string {
  const types = arr(o, 'status', 'conditions').map((c) => str(c['type']))
  const list = [...types]
  if (str(at(o, 'status', 'certificate'))) list.push('Issued')
  return list.length ? list.join(',') : 'Pending'
}

function controllerOf(o: KubeObject): string {
  const owner = arr(o, 'metadata', 'ownerReferences').find((r) => r['controller'] === true)
  if (!owner) return '<none>'
  const group = str(owner['apiVersion']).includes('/') ? str(owner['apiVersion']).split('/')[0] : ''
  return `${str(owner['kind']).toLowerCase()}${group ? `.${group}` : ''}/${str(owner['name'])}`
}

const workloadWide = [...containersCols, wide('Selector')]
const bindingColumns = [nameCol, col('Role'), ageCol, wide('Users'), wide('Groups'), wide('ServiceAccounts')]
const bindingCells = (o: KubeObject, now: number) => [name(o), `${str(at(o, 'roleRef', 'kind'))}/${str(at(o, 'roleRef', 'name'))}`, age(o, now),
  bindingSubjects(o, 'User'), bindingSubjects(o, 'Group'), bindingSubjects(o, 'ServiceAccount')]
const createdAtCells = (o: KubeObject) => [name(o), o.metadata.creationTimestamp ?? '']

export const storedKindPrinters: Readonly<Record<string, Printer>> = {
  replicationcontrollers: {
    columns: [nameCol, col('Desired', { type: 'integer' }), col('Current', { type: 'integer' }), col('Ready', { type: 'integer' }), ageCol, ...workloadWide],
    cells: (o, now) => [name(o), num(at(o, 'spec', 'replicas')), num(at(o, 'status', 'replicas')), num(at(o, 'status', 'readyReplicas')), age(o, now),
      ...podSpecContainers(at(o, 'spec', 'template', 'spec')), formatSelector(at(o, 'spec', 'selector'))],
  },
  statefulsets: {
    columns: [nameCol, col('Ready'), ageCol, ...containersCols],
    cells: (o, now) => [name(o), `${num(at(o, 'status', 'readyReplicas'))}/${num(at(o, 'spec', 'replicas'))}`, age(o, now), ...podSpecContainers(at(o, 'spec', 'template', 'spec'))],
  },
  daemonsets: {
    columns: [nameCol, col('Desired', { type: 'integer' }), col('Current', { type: 'integer' }), col('Ready', { type: 'integer' }), col('Up-to-date', { type: 'integer' }),
      col('Available', { type: 'integer' }), col('Node Selector'), ageCol, ...workloadWide],
    cells: (o, now) => [name(o), num(at(o, 'status', 'desiredNumberScheduled')), num(at(o, 'status', 'currentNumberScheduled')), num(at(o, 'status', 'numberReady')),
      num(at(o, 'status', 'updatedNumberScheduled')), num(at(o, 'status', 'numberAvailable')), formatSelector(at(o, 'spec', 'template', 'spec', 'nodeSelector')),
      age(o, now), ...podSpecContainers(at(o, 'spec', 'template', 'spec')), formatLabelSelector(at(o, 'spec', 'selector'))],
  },
  controllerrevisions: {
    columns: [nameCol, col('Controller'), col('Revision', { type: 'integer' }), ageCol],
    cells: (o, now) => [name(o), controllerOf(o), num(o['revision']), age(o, now)],
  },
  jobs: {
    columns: [nameCol, col('Status'), col('Completions'), col('Duration'), ageCol, ...workloadWide],
    cells: (o, now) => [name(o), jobStatus(o), jobCompletions(o), jobDuration(o, now), age(o, now), ...podSpecContainers(at(o, 'spec', 'template', 'spec')),
      formatLabelSelector(at(o, 'spec', 'selector'))],
  },
  cronjobs: {
    columns: [nameCol, col('Schedule'), col('Timezone'), col('Suspend', { type: 'boolean' }), col('Active', { type: 'integer' }), col('Last Schedule'), ageCol, ...workloadWide],
    cells: (o, now) => [name(o), str(at(o, 'spec', 'schedule')), str(at(o, 'spec', 'timeZone'), '<none>'), String(at(o, 'spec', 'suspend') === true ? 'True' : 'False'),
      arr(o, 'status', 'active').length, sinceOr(now, at(o, 'status', 'lastScheduleTime'), '<none>'), age(o, now),
      ...podSpecContainers(at(o, 'spec', 'jobTemplate', 'spec', 'template', 'spec')), formatLabelSelector(at(o, 'spec', 'jobTemplate', 'spec', 'selector'))],
  },
  horizontalpodautoscalers: {
    columns: [nameCol, col('Reference'), col('Targets'), col('MinPods', { type: 'integer' }), col('MaxPods', { type: 'integer' }), col('Replicas', { type: 'integer' }), ageCol],
    cells: (o, now) => [name(o), `${str(at(o, 'spec', 'scaleTargetRef', 'kind'))}/${str(at(o, 'spec', 'scaleTargetRef', 'name'))}`, hpaTargets(o),
      typeof at(o, 'spec', 'minReplicas') === 'number' ? num(at(o, 'spec', 'minReplicas')) : '<unset>', num(at(o, 'spec', 'maxReplicas')), num(at(o, 'status', 'currentReplicas')), age(o, now)],
  },
  ingresses: {
    columns: [nameCol, col('Class'), col('Hosts'), col('Address'), col('Ports'), ageCol],
    cells: (o, now) => [name(o), str(at(o, 'spec', 'ingressClassName'), '<none>'), ingressHosts(o), loadBalancerAddresses(o),
      arr(o, 'spec', 'tls').length > 0 ? '80, 443' : '80', age(o, now)],
  },
  ingressclasses: {
    columns: [nameCol, col('Controller'), col('Parameters'), ageCol],
    cells: (o, now) => {
      const p = at(o, 'spec', 'parameters')
      const group = str(at(p, 'apiGroup'))
      return [name(o), str(at(o, 'spec', 'controller')), p ? `${str(at(p, 'kind'))}${group ? `.${group}` : ''}/${str(at(p, 'name'))}` : '<none>', age(o, now)]
    },
  },
  networkpolicies: {
    columns: [nameCol, col('Pod-Selector'), ageCol],
    cells: (o, now) => [name(o), formatLabelSelector(at(o, 'spec', 'podSelector')), age(o, now)],
  },
  servicecidrs: {
    columns: [nameCol, col('CIDRs'), ageCol],
    cells: (o, now) => [name(o), ((at(o, 'spec', 'cidrs') as string[] | undefined) ?? []).join(','), age(o, now)],
  },
  poddisruptionbudgets: {
    columns: [nameCol, col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', { type: 'integer' }), ageCol],
    cells: (o, now) => [name(o), str(at(o, 'spec', 'minAvailable'), 'N/A'), str(at(o, 'spec', 'maxUnavailable'), 'N/A'), num(at(o, 'status', 'disruptionsAllowed')), age(o, now)],
  },
  roles: { columns: [nameCol, createdAt], cells: createdAtCells },
  clusterroles: { columns: [nameCol, createdAt], cells: createdAtCells },
  rolebindings: { columns: bindingColumns, cells: bindingCells },
  clusterrolebindings: { columns: bindingColumns, cells: bindingCells },
  serviceaccounts: {
    columns: [nameCol, col('Secrets', { type: 'integer' }), ageCol],
    cells: (o, now) => [name(o), arr(o, 'secrets').length, age(o, now)],
  },
  persistentvolumes: {
    columns: [nameCol, col('Capacity'), col('Access Modes'), col('Reclaim Policy'), col('Status'), col('Claim'), col('StorageClass'),
      col('VolumeAttributesClass'), col('Reason'), ageCol, wide('VolumeMode')],
    cells: (o, now) => {
      const claim = at(o, 'spec', 'claimRef')
      return [name(o), str(at(o, 'spec', 'capacity', 'storage')), accessModes(at(o, 'spec')), str(at(o, 'spec', 'persistentVolumeReclaimPolicy'), 'Retain'),
        str(at(o, 'status', 'phase'), 'Pending'), claim ? `${str(at(claim, 'namespace'))}/${str(at(claim, 'name'))}` : '', str(at(o, 'spec', 'storageClassName')),
        str(at(o, 'spec', 'volumeAttributesClassName'), '<unset>'), str(at(o, 'status', 'reason')), age(o, now), str(at(o, 'spec', 'volumeMode'), 'Filesystem')]
    },
  },
  persistentvolumeclaims: {
    columns: [nameCol, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), col('VolumeAttributesClass'), ageCol, wide('VolumeMode')],
    cells: (o, now) => [name(o), str(at(o, 'status', 'phase'), 'Pending'), str(at(o, 'spec', 'volumeName')), str(at(o, 'status', 'capacity', 'storage')),
      accessModes(at(o, 'status')), str(at(o, 'spec', 'storageClassName')), str(at(o, 'spec', 'volumeAttributesClassName'), '<unset>'), age(o, now),
      str(at(o, 'spec', 'volumeMode'), 'Filesystem')],
  },
  storageclasses: {
    columns: [nameCol, col('Provisioner'), col('ReclaimPolicy'), col('VolumeBindingMode'), col('AllowVolumeExpansion'), ageCol],
    cells: (o, now) => {
      const isDefault = o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true'
      return [`${name(o)}${isDefault ? ' (default)' : ''}`, str(o['provisioner']), str(o['reclaimPolicy'], 'Delete'), str(o['volumeBindingMode'], 'Immediate'),
        String(o['allowVolumeExpansion'] === true), age(o, now)]
    },
  },
  limitranges: { columns: [nameCol, createdAt], cells: createdAtCells },
  resourcequotas: {
    columns: [nameCol, ageCol, col('Request'), col('Limit')],
    cells: (o, now) => [name(o), age(o, now), quotaUsage(o, false), quotaUsage(o, true)],
  },
  leases: {
    columns: [nameCol, col('Holder'), ageCol],
    cells: (o, now) => [name(o), str(at(o, 'spec', 'holderIdentity'), '<unknown>'), age(o, now)],
  },
  priorityclasses: {
    columns: [nameCol, col('Value', { type: 'integer' }), col('Global-Default', { type: 'boolean' }), ageCol, col('PreemptionPolicy')],
    cells: (o, now) => [name(o), num(o['value']), String(o['globalDefault'] === true), age(o, now), str(o['preemptionPolicy'], 'PreemptLowerPriority')],
  },
  certificatesigningrequests: {
    columns: [nameCol, ageCol, col('SignerName'), col('Requestor'), col('RequestedDuration'), col('Condition')],
    cells: (o, now) => {
      const seconds = at(o, 'spec', 'expirationSeconds')
      return [name(o), age(o, now), str(at(o, 'spec', 'signerName')), str(at(o, 'spec', 'username')),
        typeof seconds === 'number' ? humanDuration(seconds * 1000) : '<none>', csrCondition(o)]
    },
  },
}
