import { describe, expect, it } from 'vitest'
import { decodeProtobufObject, encodeProtobufObject } from '../../../src/api/index.js'
import { apiServerPerTest } from '../../helpers/api-server.js'

const api = apiServerPerTest()
const start = (): Promise<string> => api.start()

type Json = Record<string, any>

async function call(base: string, method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path, { method, headers: { 'Content-Type': type, Accept: 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  return { status: res.status, body: await res.json() as Json }
}

const v1Path = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers'
const v2Path = '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers'
const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }

function v1Hpa(name: string, cpu: number): Json {
  return { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name }, spec: { scaleTargetRef: target, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: cpu } }
}

describe('HorizontalPodAutoscaler served as autoscaling/v1 and v2', () => {
  it('stores a v1 create as v2 and reads it back through both versions', async () => {
    const base = await start()
    const created = await call(base, 'POST', v1Path, v1Hpa('web', 50))
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { targetCPUUtilizationPercentage: 50 } })
    const stored = api.store.get({ resource: 'horizontalpodautoscalers.autoscaling', namespace: 'default', name: 'web' }) as Json
    expect(stored['apiVersion']).toBe('autoscaling/v2')
    const v2 = await call(base, 'GET', `${v2Path}/web`)
    expect(v2.body['apiVersion']).toBe('autoscaling/v2')
    expect(v2.body['spec']['metrics']).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }])
    const v1 = await call(base, 'GET', `${v1Path}/web`)
    expect(v1.body).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { targetCPUUtilizationPercentage: 50, maxReplicas: 3 } })
    expect(v1.body['spec']['metrics']).toBeUndefined()
    const list = await call(base, 'GET', v1Path)
    expect(list.body['items'].map((o: Json) => o['apiVersion'])).toEqual(['autoscaling/v1'])
  })

  it('serves a v2 create through v1 with the CPU target and keeps other metrics in annotations', async () => {
    const base = await start()
    const body = {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'api' },
      spec: {
        scaleTargetRef: target, maxReplicas: 5,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
        ],
      },
    }
    expect((await call(base, 'POST', v2Path, body)).status).toBe(201)
    const v1 = await call(base, 'GET', `${v1Path}/api`)
    expect(v1.body['spec']['targetCPUUtilizationPercentage']).toBe(70)
    expect(v1.body['metadata']['annotations']['autoscaling.alpha.kubernetes.io/metrics']).toContain('memory')
    // An update through v1 keeps what only v2 holds.
    const put = await call(base, 'PUT', `${v1Path}/api`, { ...v1.body, spec: { ...v1.body['spec'], maxReplicas: 6 } })
    expect(put.status).toBe(200)
    const v2 = await call(base, 'GET', `${v2Path}/api`)
    expect(v2.body['spec']['maxReplicas']).toBe(6)
    expect(v2.body['spec']['metrics']).toHaveLength(2)
    expect(v2.body['metadata']['annotations'] ?? {}).not.toHaveProperty('autoscaling.alpha.kubernetes.io/metrics')
  })

  it('applies a v1 merge patch to the v1 form of the stored object', async () => {
    const base = await start()
    await call(base, 'POST', v2Path, { ...v1Hpa('web', 50), apiVersion: 'autoscaling/v2', spec: { scaleTargetRef: target, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] } })
    const patched = await call(base, 'PATCH', `${v1Path}/web`, { spec: { targetCPUUtilizationPercentage: 80 } }, 'application/merge-patch+json')
    expect(patched.status).toBe(200)
    expect(patched.body['spec']['targetCPUUtilizationPercentage']).toBe(80)
    const v2 = await call(base, 'GET', `${v2Path}/web`)
    expect(v2.body['spec']['metrics'][0]['resource']['target']['averageUtilization']).toBe(80)
  })

  it('rejects a v1 body whose maxReplicas is below minReplicas, naming the field', async () => {
    const base = await start()
    const bad = v1Hpa('web', 50)
    bad['spec']['minReplicas'] = 4
    const r = await call(base, 'POST', v1Path, bad)
    expect(r.status).toBe(422)
    expect(r.body['details']['causes'].map((c: Json) => c['field'])).toContain('spec.maxReplicas')
  })

  it('sends a v1 watcher v1 objects for writes made through v2', async () => {
    const base = await start()
    const ac = new AbortController()
    const res = await fetch(`${base}${v1Path}?watch=true`, { signal: ac.signal })
    const reader = res.body!.getReader()
    await call(base, 'POST', v2Path, { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'w' }, spec: { scaleTargetRef: target, maxReplicas: 2, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 40 } } }] } })
    let text = ''
    while (!text.includes('\n')) {
      const chunk = await reader.read()
      if (chunk.done) break
      text += new TextDecoder().decode(chunk.value)
    }
    ac.abort()
    const ev = JSON.parse(text.split('\n')[0]!) as Json
    expect(ev['type']).toBe('ADDED')
    expect(ev['object']).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { targetCPUUtilizationPercentage: 40 } })
  })

  it('deletes through v2 what was created through v1', async () => {
    const base = await start()
    await call(base, 'POST', v1Path, v1Hpa('gone', 50))
    const del = await call(base, 'DELETE', `${v2Path}/gone`)
    expect(del.status).toBe(200)
    expect((await call(base, 'GET', `${v1Path}/gone`)).status).toBe(404)
  })

  it('advertises both versions with v2 preferred, and describes v1 in OpenAPI', async () => {
    const base = await start()
    const group = await call(base, 'GET', '/apis/autoscaling')
    expect(group.body['versions'].map((v: Json) => v['version'])).toEqual(['v2', 'v1'])
    expect(group.body['preferredVersion']['version']).toBe('v2')
    const legacy = await call(base, 'GET', '/apis/autoscaling/v1')
    expect(legacy.body['resources'].map((r: Json) => r['name'])).toEqual(expect.arrayContaining(['horizontalpodautoscalers', 'horizontalpodautoscalers/status']))
    const doc = await call(base, 'GET', '/openapi/v3/apis/autoscaling/v1')
    expect(doc.status).toBe(200)
    expect(Object.keys(doc.body['components']['schemas']['io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec']['properties'])).toContain('targetCPUUtilizationPercentage')
  })

  it('takes and answers protobuf in the v1 message', async () => {
    const base = await start()
    const body = encodeProtobufObject(v1Hpa('pb', 60))!
    const created = await fetch(base + v1Path, { method: 'POST', headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/vnd.kubernetes.protobuf, application/json' }, body })
    expect(created.status).toBe(201)
    expect(decodeProtobufObject(new Uint8Array(await created.arrayBuffer()))).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { targetCPUUtilizationPercentage: 60 } })
    const v2 = await call(base, 'GET', `${v2Path}/pb`)
    expect(v2.body['spec']['metrics'][0]['resource']['target']['averageUtilization']).toBe(60)
  })

  it('prints the same table columns through v1 as through v2', async () => {
    const base = await start()
    await call(base, 'POST', v1Path, v1Hpa('web', 50))
    const table = async (path: string) => {
      const res = await fetch(base + path, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } })
      return (await res.json() as Json)['rows'].map((r: Json) => r['cells'])
    }
    const v2 = await table(v2Path)
    expect(JSON.stringify(v2)).toContain('50%')
    expect(await table(v1Path)).toEqual(v2)
  })
})
