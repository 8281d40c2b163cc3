import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { queryBool } from '../../../src/apiserver/list-options.js'
import { apiServerPerTest } from '../../helpers/api-server.js'

const api = apiServerPerTest()
const start = (): Promise<string> => api.start()

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

interface WatchEvent { type: string; object: { kind?: string; metadata: { name?: string; resourceVersion?: string; annotations?: Record<string, string> } } }

async function events(url: string): Promise<WatchEvent[]> {
  const res = await fetch(url)
  expect(res.headers.get('transfer-encoding')).toBe('chunked')
  return (await res.text()).trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as WatchEvent)
}

const summary = (evs: WatchEvent[]): string[] => evs.map((e) => `${e.type} ${e.object.metadata.name ?? e.object.metadata.annotations?.['k8s.io/initial-events-end'] ?? ''}`)

describe('watch and ListOptions query parameters, read as kube-apiserver reads them', () => {
  it('every value of watch but 0 and false (any case) starts a watch: watch=True is how the Python client asks', async () => {
    const base = await start()
    const cms = `${base}/api/v1/namespaces/default/configmaps`
    await call(cms, 'POST', { metadata: { name: 'a' } })
    for (const v of ['True', 'TRUE', 'true', '1', 'yes', '']) {
      expect(summary(await events(`${cms}?watch=${v}&timeoutSeconds=0.2`)), `watch=${v}`).toEqual(['ADDED a'])
    }
    for (const v of ['False', 'FALSE', 'false', '0']) {
      expect((await call(`${cms}?watch=${v}`, 'GET')).json['kind'], `watch=${v}`).toBe('ConfigMapList')
    }
  })

  it('the WebSocket upgrade path reads watch the same way', async () => {
    const base = await start()
    await call(`${base}/api/v1/namespaces/default/configmaps`, 'POST', { metadata: { name: 'a' } })
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/namespaces/default/configmaps?watch=True`)
    const first = await new Promise<WatchEvent>((resolve, reject) => {
      ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()) as WatchEvent))
      ws.once('error', reject)
    })
    ws.close()
    expect(first.type).toBe('ADDED')
  })

  it('queryBool follows the converter for any string', () => {
    fc.assert(fc.property(fc.string({ maxLength: 8 }), (v) => {
      expect(queryBool(new URLSearchParams([['b', v]]), 'b')).toBe(!(v === '0' || v.toLowerCase() === 'false'))
    }), { seed: 12, numRuns: 300 })
    expect(queryBool(new URLSearchParams(''), 'b')).toBeUndefined()
  })

  it('WatchList sends the state as ADDED, then a BOOKMARK marked initial-events-end, then live events', async () => {
    const base = await start()
    const cms = `${base}/api/v1/namespaces/default/configmaps`
    await call(cms, 'POST', { metadata: { name: 'a' } })
    await call(cms, 'POST', { metadata: { name: 'b' } })
    const rv = ((await call(cms, 'GET')).json['metadata'] as { resourceVersion: string }).resourceVersion
    const pending = events(`${cms}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=${rv}&timeoutSeconds=0.5`)
    await new Promise((r) => setTimeout(r, 100))
    await call(cms, 'POST', { metadata: { name: 'c' } })
    const evs = await pending
    expect(summary(evs)).toEqual(['ADDED a', 'ADDED b', 'BOOKMARK true', 'ADDED c'])
    expect(evs[2]?.object).toMatchObject({ kind: 'ConfigMap', metadata: { resourceVersion: rv } })
    // Unset resourceVersion (a consistent read) gives the same initial state.
    expect(summary(await events(`${cms}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=0.2`)))
      .toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'BOOKMARK true'])
  })

  it('sendInitialEvents=false starts at the current state without initial events', async () => {
    const base = await start()
    const cms = `${base}/api/v1/namespaces/default/configmaps`
    await call(cms, 'POST', { metadata: { name: 'a' } })
    expect(await events(`${cms}?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&timeoutSeconds=0.2`)).toEqual([])
  })

  it('refuses the combinations ValidateListOptions refuses, with a 422 on ListOptions naming the field', async () => {
    const base = await start()
    const cms = `${base}/api/v1/namespaces/default/configmaps`
    const noMatch = await call(`${cms}?watch=true&sendInitialEvents=true`, 'GET')
    expect(noMatch).toMatchObject({ status: 422, json: {
      reason: 'Invalid',
      message: 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
      details: { name: '', group: 'meta.k8s.io', kind: 'ListOptions', causes: [{ reason: 'FieldValueForbidden', field: 'resourceVersionMatch' }] },
    } })
    expect((await call(`${cms}?watch=true&resourceVersionMatch=NotOlderThan`, 'GET')).status).toBe(422)
    const exact = await call(`${cms}?watch=true&sendInitialEvents=true&resourceVersionMatch=Exact`, 'GET')
    expect((exact.json['details'] as { causes: { reason: string }[] }).causes.map((c) => c.reason)).toEqual(['FieldValueForbidden', 'FieldValueNotSupported'])
    expect(await call(`${cms}?sendInitialEvents=true`, 'GET')).toMatchObject({ status: 422, json: { details: { causes: [{ field: 'sendInitialEvents', message: 'Forbidden: sendInitialEvents is forbidden for list' }] } } })
    expect((await call(`${cms}?resourceVersionMatch=NotOlderThan`, 'GET')).status).toBe(422)
    expect((await call(`${cms}?resourceVersionMatch=NotOlderThan&resourceVersion=0`, 'GET')).status).toBe(200)
  })
})
