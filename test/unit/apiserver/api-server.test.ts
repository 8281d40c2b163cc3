import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ApiServer, invalid, type AdmissionHook } from '../../../src/apiserver/index.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
afterEach(async () => {
  await server?.close()
  await store?.close()
  server = undefined
  store = undefined
})

async function start(opts: { hooks?: AdmissionHook[]; historySize?: number; bookmarkIntervalMs?: number } = {}): Promise<string> {
  store = await openMemoryStore(opts.historySize === undefined ? {} : { historySize: opts.historySize })
  server = await ApiServer.start({ store, port: 0, admissionHooks: opts.hooks ?? [], bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000 })
  return server.url
}

async function call(url: string, method: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method, headers: { 'Content-Type': contentType }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

const svc = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], ...extra } })

describe('ApiServer', () => {
  it('answers errors as Status objects: 404, 409 AlreadyExists, 422 with causes, 400 malformed', async () => {
    const base = await start()
    const svcs = `${base}/api/v1/namespaces/default/services`
    expect(await call(`${svcs}/nope`, 'GET')).toMatchObject({ status: 404, json: { kind: 'Status', reason: 'NotFound', message: 'services "nope" not found' } })
    expect((await call(svcs, 'POST', svc('web'))).status).toBe(201)
    expect(await call(svcs, 'POST', svc('web'))).toMatchObject({ status: 409, json: { reason: 'AlreadyExists' } })
    const bad = await call(svcs, 'POST', svc('bad', { ports: [{ port: 0, protocol: 'FOO' }] }))
    expect(bad.status).toBe(422)
    expect((bad.json['details'] as { causes: { field: string }[] }).causes.map((c) => c.field)).toEqual(['spec.ports[0].port', 'spec.ports[0].protocol', 'spec.ports[0].targetPort'])
    expect(await call(svcs, 'POST', '{not json')).toMatchObject({ status: 400, json: { reason: 'BadRequest' } })
    expect(await call(`${base}/api/v1/namespaces/missing/services`, 'POST', svc('x'))).toMatchObject({ status: 404, json: { message: 'namespaces "missing" not found' } })
  })

  it('fills generateName, uid, creationTimestamp and generation', async () => {
    const base = await start()
    const { json } = await call(`${base}/apis/apps/v1/namespaces/default/deployments`, 'POST', {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { generateName: 'web-' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    })
    const meta = json['metadata'] as Record<string, unknown>
    expect(meta['name']).toMatch(/^web-[a-z0-9]{5}$/)
    expect(meta['uid']).toMatch(/^[0-9a-f-]{36}$/)
    expect(meta['generation']).toBe(1)
    expect(meta['creationTimestamp']).toMatch(/Z$/)
  })

  it('serves scale and status subresources', async () => {
    const base = await start()
    const deploys = `${base}/apis/apps/v1/namespaces/default/deployments`
    await call(deploys, 'POST', { metadata: { name: 'web' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } })
    const scaled = await call(`${deploys}/web/scale`, 'PATCH', { spec: { replicas: 4 } }, 'application/merge-patch+json')
    expect(scaled.json).toMatchObject({ kind: 'Scale', spec: { replicas: 4 }, status: { selector: 'a=b' } })
    await call(`${deploys}/web/status`, 'PATCH', { status: { readyReplicas: 4 }, spec: { replicas: 9 } }, 'application/merge-patch+json')
    const d = (await call(`${deploys}/web`, 'GET')).json as { spec: { replicas: number }; status: { readyReplicas: number }; metadata: { generation: number } }
    expect(d.spec.replicas).toBe(4)
    expect(d.status.readyReplicas).toBe(4)
    expect(d.metadata.generation).toBe(2)
    const ignored = await call(`${deploys}/web`, 'PATCH', { status: { readyReplicas: 0 } }, 'application/merge-patch+json')
    expect((ignored.json['status'] as Record<string, number>)['readyReplicas']).toBe(4)
  })

  it('lets an admission hook fill a field and commit an extra record in the same transaction', async () => {
    const hook: AdmissionHook = {
      name: 'fake-clusterip',
      beforeCreate(obj, ctx) {
        if (ctx.resource.resource !== 'services') return
        const ip = obj.metadata.name === 'clash' ? '10.96.0.10' : `10.96.0.${10 + ctx.store.list('ipaddresses').items.length}`
        ;(obj['spec'] as Record<string, unknown>)['clusterIP'] = ip
        if (ip === '10.96.0.99') throw invalid(ctx.resource, obj.metadata.name ?? '', [{ reason: 'FieldValueInvalid', field: 'spec.clusterIP', message: 'no' }])
        return { extraOps: [{ type: 'create', resource: 'ipaddresses', object: { metadata: { name: ip } } }] }
      },
    }
    const base = await start({ hooks: [hook] })
    const svcs = `${base}/api/v1/namespaces/default/services`
    expect((await call(svcs, 'POST', svc('web'))).json).toMatchObject({ spec: { clusterIP: '10.96.0.10' } })
    expect(await call(svcs, 'POST', svc('clash'))).toMatchObject({ status: 409 })
    expect((await call(`${svcs}/clash`, 'GET')).status).toBe(404)
  })

  it('streams watch events as NDJSON, replays from a resourceVersion and answers 410 when too old', async () => {
    const base = await start({ historySize: 2 })
    const cms = `${base}/api/v1/namespaces/default/configmaps`
    for (const n of ['a', 'b', 'c', 'd']) await call(cms, 'POST', { metadata: { name: n } })
    const old = await fetch(`${cms}?watch=true&resourceVersion=1`)
    expect(JSON.parse(await old.text())).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })
    const rv = Number(((await call(cms, 'GET')).json['metadata'] as { resourceVersion: string }).resourceVersion)
    const res = await fetch(`${cms}?watch=true&resourceVersion=${rv - 1}&labelSelector=x=y&timeoutSeconds=1`)
    await call(`${cms}/d`, 'PATCH', { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json')
    await call(`${cms}/d`, 'PATCH', { metadata: { labels: { x: null } } }, 'application/merge-patch+json')
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } })
    expect(lines.map((l) => `${l.type} ${l.object.metadata.name}`)).toEqual(['ADDED d', 'DELETED d'])
  })

  it('streams watch events over WebSocket with bookmarks', async () => {
    const base = await start({ bookmarkIntervalMs: 50 })
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true`)
    const events: string[] = []
    ws.on('message', (d: Buffer) => events.push((JSON.parse(d.toString()) as { type: string }).type))
    await new Promise((r) => ws.once('open', r))
    await call(`${base}/api/v1/namespaces/default/configmaps`, 'POST', { metadata: { name: 'w' } })
    await new Promise((r) => setTimeout(r, 150))
    ws.close()
    expect(events[0]).toBe('ADDED')
    expect(events).toContain('BOOKMARK')
  })

  it('server-side apply creates when absent and records managedFields', async () => {
    const base = await start()
    const url = `${base}/api/v1/namespaces/default/configmaps/ssa?fieldManager=me`
    const first = await call(url, 'PATCH', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n', 'application/apply-patch+yaml')
    expect(first.status).toBe(201)
    expect((first.json['metadata'] as { managedFields: unknown[] }).managedFields).toEqual([
      expect.objectContaining({ manager: 'me', operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {} } } }),
    ])
  })
})
