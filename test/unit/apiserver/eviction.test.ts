import { describe, expect, it } from 'vitest'
import type { Pod } from '../../../src/api/index.js'
import { disruptionStatus, podDisruptionBudgetResource, type PodDisruptionBudget } from '../../../src/apiserver/pod-disruption-budget.js'
import { apiServerPerTest, callJson } from '../../helpers/api-server.js'

const api = apiServerPerTest()
const start = (): Promise<string> => api.start()

const call = callJson

const pods = (base: string): string => `${base}/api/v1/namespaces/default/pods`

/** A pod in the given phase, Ready or not, labelled app=web. */
async function pod(base: string, name: string, phase: 'Running' | 'Pending', ready: boolean): Promise<void> {
  const created = await call(pods(base), 'POST', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } })
  expect(created.status).toBe(201)
  const status = { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] }
  expect((await call(`${pods(base)}/${name}/status`, 'PATCH', { status }, 'application/merge-patch+json')).status).toBe(200)
}

/** PodDisruptionBudget is not a served kind on this branch yet: written to the store where the eviction reads it. */
async function budget(name: string, spec: PodDisruptionBudget['spec']): Promise<void> {
  await api.store.transact([{ type: 'create', resource: podDisruptionBudgetResource, object: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default' }, spec } }])
}

const eviction = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, ...extra })

describe('pods/eviction', () => {
  it('deletes a pod no budget protects and answers a Success Status', async () => {
    const base = await start()
    await pod(base, 'a', 'Running', true)
    const r = await call(`${pods(base)}/a/eviction`, 'POST', eviction('a'))
    expect(r).toEqual({ status: 201, json: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } })
    expect((await call(`${pods(base)}/a`, 'GET')).status).toBe(404)
  })

  it('refuses with 429 and a DisruptionBudget cause when the budget allows no disruption, and lets one go when it allows one', async () => {
    const base = await start()
    await pod(base, 'a', 'Running', true)
    await pod(base, 'b', 'Running', true)
    await budget('web', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } })
    expect((await call(`${pods(base)}/a/eviction`, 'POST', eviction('a'))).status).toBe(201)
    const refused = await call(`${pods(base)}/b/eviction`, 'POST', eviction('b'))
    expect(refused).toEqual({ status: 429, json: {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'TooManyRequests', code: 429,
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 1 healthy pods and has 1 currently' }] },
    } })
    expect((await call(`${pods(base)}/b`, 'GET')).status).toBe(200)
  })

  it('never protects pending pods, and evicts a not-Ready pod while the budget is met', async () => {
    const base = await start()
    await pod(base, 'ready', 'Running', true)
    await pod(base, 'unready', 'Running', false)
    await pod(base, 'pending', 'Pending', false)
    await budget('web', { minAvailable: 1, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] } })
    expect((await call(`${pods(base)}/ready/eviction`, 'POST', eviction('ready'))).status).toBe(429)
    expect((await call(`${pods(base)}/pending/eviction`, 'POST', eviction('pending'))).status).toBe(201)
    expect((await call(`${pods(base)}/unready/eviction`, 'POST', eviction('unready'))).status).toBe(201)
  })

  it('refuses a pod two budgets select, as the eviction subresource does not support it', async () => {
    const base = await start()
    await pod(base, 'a', 'Running', true)
    await budget('one', { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } })
    await budget('two', { maxUnavailable: 1, selector: {} })
    expect(await call(`${pods(base)}/a/eviction`, 'POST', eviction('a'))).toMatchObject({ status: 429, json: { message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' } })
  })

  it('checks the Eviction: its name must be the URL name; only POST is served; unknown pods are 404', async () => {
    const base = await start()
    await pod(base, 'a', 'Running', true)
    expect(await call(`${pods(base)}/a/eviction`, 'POST', eviction('b'))).toMatchObject({ status: 400, json: { reason: 'BadRequest', message: 'name in URL does not match name in Eviction object' } })
    expect(await call(`${pods(base)}/a/eviction`, 'GET')).toMatchObject({ status: 405, json: { reason: 'MethodNotAllowed', details: { kind: 'pods/eviction' } } })
    expect(await call(`${pods(base)}/nope/eviction`, 'POST', eviction('nope'))).toMatchObject({ status: 404, json: { details: { name: 'nope', kind: 'pods' } } })
    expect(await call(`${pods(base)}/a/eviction`, 'POST', eviction('a', { deleteOptions: { preconditions: { uid: 'other' } } }))).toMatchObject({ status: 409 })
  })

  it('is advertised in discovery as kube-apiserver does: policy/v1 Eviction, create only', async () => {
    const base = await start()
    const list = (await call(`${base}/api/v1`, 'GET')).json as { resources: { name: string }[] }
    expect(list.resources.find((r) => r.name === 'pods/eviction')).toEqual({ name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] })
  })
})

describe('disruptionStatus', () => {
  const readyPod = (name: string, owner?: string): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' }, ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: owner, controller: true }] } : {}) },
    spec: { containers: [] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  }) as Pod
  const pdb = (spec: PodDisruptionBudget['spec']): PodDisruptionBudget => ({ metadata: { name: 'b', namespace: 'default' }, spec })

  it('counts the controller scale for maxUnavailable and percentages, and pods for an integer minAvailable', () => {
    const ps = [readyPod('a', 'rs'), readyPod('b', 'rs')]
    const scale = (p: Pod) => (p.metadata.ownerReferences ? { controller: 'rs', replicas: 4 } : undefined)
    expect(disruptionStatus(pdb({ maxUnavailable: '25%', selector: {} }), ps, scale)).toEqual({ expectedPods: 4, desiredHealthy: 3, currentHealthy: 2, disruptionsAllowed: 0 })
    expect(disruptionStatus(pdb({ minAvailable: '50%', selector: {} }), ps, scale)).toEqual({ expectedPods: 4, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 })
    expect(disruptionStatus(pdb({ minAvailable: 1, selector: {} }), ps, scale)).toEqual({ expectedPods: 2, desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1 })
    expect(disruptionStatus(pdb({ minAvailable: 1 }), ps, scale)).toMatchObject({ expectedPods: 0, currentHealthy: 0 })
  })
})
