import { describe, expect, it } from 'vitest'
import { buildTable, findResource } from '../../../src/apiserver/index.js'
import { servedResources } from '../../../src/api/resources.js'
import type { KubeObject } from '../../../src/store/index.js'

const now = Date.parse('2026-01-01T01:00:00Z')
const created = '2026-01-01T00:00:00Z'
type Table = { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[] }[] }

function table(group: string, version: string, resource: string, obj: Record<string, unknown>): { headers: string[]; wide: string[]; cells: unknown[] } {
  const r = findResource(group, version, resource)!
  const o = { ...obj, metadata: { name: 'x', creationTimestamp: created, ...(obj['metadata'] as object | undefined) } } as KubeObject
  const t = buildTable(r, [o], { now, includeObject: 'None' }) as Table
  return {
    headers: t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name),
    wide: t.columnDefinitions.filter((c) => c.priority === 1).map((c) => c.name),
    cells: t.rows[0]!.cells,
  }
}

describe('tables of the stored-only kinds', () => {
  it('have a printer with more than Name and Age for every served kind that kube-apiserver prints so', () => {
    // The kinds kube-apiserver prints with its default Name/Age columns only.
    const nameAgeOnly = new Set(['configmaps', 'selfsubjectreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews'])
    for (const r of servedResources) {
      const t = buildTable(r, [], { now, includeObject: 'None' }) as Table
      if (!nameAgeOnly.has(r.resource)) expect(t.columnDefinitions.map((c) => c.name), `${r.group}/${r.resource}`).not.toEqual(['Name', 'Age'])
    }
  })

  it('print statefulsets, daemonsets, jobs and cronjobs like kube-apiserver', () => {
    const template = { spec: { containers: [{ name: 'c', image: 'nginx' }], nodeSelector: { disk: 'ssd' } } }
    expect(table('apps', 'v1', 'statefulsets', { spec: { replicas: 3, template }, status: { readyReplicas: 2 } })).toEqual({
      headers: ['Name', 'Ready', 'Age'], wide: ['Containers', 'Images'], cells: ['x', '2/3', '60m', 'c', 'nginx'],
    })
    expect(table('apps', 'v1', 'daemonsets', { spec: { template, selector: { matchLabels: { a: 'b' } } }, status: { desiredNumberScheduled: 1, numberReady: 1 } }).cells)
      .toEqual(['x', 1, 0, 1, 0, 0, 'disk=ssd', '60m', 'c', 'nginx', 'a=b'])
    const job = table('batch', 'v1', 'jobs', { spec: { completions: 2, template }, status: { succeeded: 1, startTime: '2026-01-01T00:30:00Z' } })
    expect(job.headers).toEqual(['Name', 'Status', 'Completions', 'Duration', 'Age'])
    expect(job.cells.slice(0, 4)).toEqual(['x', 'Running', '1/2', '30m'])
    const done = table('batch', 'v1', 'jobs', { spec: { template }, status: { succeeded: 1, startTime: '2026-01-01T00:30:00Z', completionTime: '2026-01-01T00:30:05Z', conditions: [{ type: 'Complete', status: 'True' }] } })
    expect(done.cells.slice(0, 4)).toEqual(['x', 'Complete', '1/1 of 1', '5s'])
    const cj = table('batch', 'v1', 'cronjobs', { spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template } } } })
    expect(cj.headers).toEqual(['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age'])
    expect(cj.cells.slice(0, 6)).toEqual(['x', '*/5 * * * *', '<none>', 'False', 0, '<none>'])
  })

  it('print autoscalers, ingresses, bindings, budgets, quotas and storage like kube-apiserver', () => {
    expect(table('autoscaling', 'v2', 'horizontalpodautoscalers', {
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] },
    }).cells).toEqual(['x', 'Deployment/web', 'cpu: <unknown>/80%', 1, 5, 0, '60m'])
    expect(table('networking.k8s.io', 'v1', 'ingresses', { spec: { ingressClassName: 'nginx', rules: [{ host: 'a.example' }, { host: 'b.example' }] } }).cells)
      .toEqual(['x', 'nginx', 'a.example,b.example', '', '80', '60m'])
    expect(table('rbac.authorization.k8s.io', 'v1', 'rolebindings', { roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', namespace: 'default', name: 'sa' }, { kind: 'User', name: 'u' }] }))
      .toEqual({ headers: ['Name', 'Role', 'Age'], wide: ['Users', 'Groups', 'ServiceAccounts'], cells: ['x', 'Role/r', '60m', 'u', '', 'default:sa'] })
    expect(table('rbac.authorization.k8s.io', 'v1', 'clusterroles', {})).toMatchObject({ headers: ['Name', 'Created At'], cells: ['x', created] })
    expect(table('policy', 'v1', 'poddisruptionbudgets', { spec: { minAvailable: '50%' }, status: { disruptionsAllowed: 1 } }).cells).toEqual(['x', '50%', 'N/A', 1, '60m'])
    expect(table('', 'v1', 'resourcequotas', { spec: { hard: { pods: '10', 'limits.cpu': '2' } }, status: { hard: { pods: '10', 'limits.cpu': '2' }, used: { pods: '3' } } }).cells)
      .toEqual(['x', '60m', 'pods: 3/10', 'limits.cpu: 0/2'])
    expect(table('storage.k8s.io', 'v1', 'storageclasses', { metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'p' }).cells)
      .toEqual(['x (default)', 'p', 'Delete', 'Immediate', 'false', '60m'])
    expect(table('', 'v1', 'persistentvolumeclaims', { spec: { accessModes: ['ReadWriteOnce'] }, status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } }).cells)
      .toEqual(['x', 'Bound', '', '1Gi', 'RWO', '', '<unset>', '60m', 'Filesystem'])
  })

  it('print events.k8s.io Events with the core Event columns, from their own field names', () => {
    expect(table('events.k8s.io', 'v1', 'events', { type: 'Normal', reason: 'Started', note: 'hello', regarding: { kind: 'Pod', name: 'p' }, eventTime: '2026-01-01T00:59:00.000000Z' }).cells)
      .toEqual(['60s', 'Normal', 'Started', 'pod/p', 'hello', 'x'])
  })
})
