import { describe, expect, it } from 'vitest'
import { apiServerPerTest, callJson } from '../../helpers/api-server.js'

const api = apiServerPerTest()
const start = (): Promise<string> => api.start()

const call = callJson

const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }

describe('Status details, as kube-apiserver sets them', () => {
  it('a 404 for a path nothing serves carries an empty details object (kubectl debug reads details.name)', async () => {
    const base = await start()
    const r = await call(`${base}/api/v1/namespaces/default/pods/web/ephemeralcontainers`, 'PATCH', {}, 'application/strategic-merge-patch+json')
    expect(r.status).toBe(404)
    expect(r.json).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 })
    expect((await call(`${base}/apis/nope.example/v1/things`, 'GET')).json['details']).toEqual({})
  })

  it('a 404 for an object names it, its group and its resource plural', async () => {
    const base = await start()
    expect((await call(`${base}/apis/apps/v1/namespaces/default/deployments/web`, 'GET')).json['details']).toEqual({ name: 'web', group: 'apps', kind: 'deployments' })
    expect((await call(`${base}/api/v1/namespaces/default/pods/web`, 'DELETE')).json['details']).toEqual({ name: 'web', group: '', kind: 'pods' })
  })

  it('409 AlreadyExists and Conflict name the object; 422 Invalid names the kind', async () => {
    const base = await start()
    const deploys = `${base}/apis/apps/v1/namespaces/default/deployments`
    expect((await call(deploys, 'POST', deployment)).status).toBe(201)
    expect(await call(deploys, 'POST', deployment)).toMatchObject({ status: 409, json: { reason: 'AlreadyExists', details: { name: 'web', group: 'apps', kind: 'deployments' } } })
    const stale = { ...deployment, metadata: { name: 'web', resourceVersion: '1' } }
    expect(await call(`${deploys}/web`, 'PUT', stale)).toMatchObject({ status: 409, json: { reason: 'Conflict', details: { name: 'web', group: 'apps', kind: 'deployments' } } })
    const bad = await call(deploys, 'POST', { ...deployment, metadata: { name: 'bad' }, spec: { ...deployment.spec, replicas: -1 } })
    expect(bad).toMatchObject({ status: 422, json: { reason: 'Invalid', details: { name: 'bad', group: 'apps', kind: 'Deployment' } } })
  })

  it('405 for a verb a resource does not serve names the resource, as NewMethodNotSupported', async () => {
    const base = await start()
    const r = await call(`${base}/api/v1/namespaces/default/endpoints`, 'POST', { metadata: { name: 'x' } })
    expect(r).toMatchObject({ status: 405, json: { reason: 'MethodNotAllowed', message: 'create is not supported on resources of kind "endpoints"', details: { group: '', kind: 'endpoints' } } })
  })
})
