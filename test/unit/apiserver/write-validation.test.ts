import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { schedulePod } from '../../../src/controllers/index.js'
import type { Node, Pod } from '../../../src/api/index.js'
import { apiServerPerTest } from '../../helpers/api-server.js'

const api = apiServerPerTest()
const start = (): Promise<string> => api.start({ bookmarkIntervalMs: 60_000 })

interface Reply { status: number; json: Record<string, unknown> }

async function call(url: string, method: string, body?: unknown, contentType = 'application/json'): Promise<Reply> {
  const res = await fetch(url, { method, headers: { 'Content-Type': contentType }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

function causeFields(r: Reply): string[] {
  return ((r.json['details'] as { causes?: { field: string }[] } | undefined)?.causes ?? []).map((c) => c.field)
}

const meta = { name: 'x' }
const svc = (spec: Record<string, unknown>, metadata: Record<string, unknown> = meta) => ({ apiVersion: 'v1', kind: 'Service', metadata, spec: { ports: [{ port: 80 }], ...spec } })
const container = { name: 'c', image: 'busybox' }
const pod = (extra: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: { containers: [container] }, ...extra })
const node = (extra: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Node', metadata: meta, ...extra })
const slice = (extra: Record<string, unknown>) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta, addressType: 'IPv4', ...extra })
const deployment = (selector: Record<string, unknown>) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta,
  spec: { selector: { matchLabels: { a: 'b' }, ...selector }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container] } } },
})

const paths: Record<string, string> = {
  Service: '/api/v1/namespaces/default/services',
  Pod: '/api/v1/namespaces/default/pods',
  Node: '/api/v1/nodes',
  EndpointSlice: '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
  Deployment: '/apis/apps/v1/namespaces/default/deployments',
  ConfigMap: '/api/v1/namespaces/default/configmaps',
}

describe('bad objects are refused at the door (issue 10 items 1 and 4), and nothing is stored', () => {
  it.each([
    // wrong JSON types: 400 BadRequest, as kube-apiserver's decoder answers
    ['externalIPs: [1]', svc({ externalIPs: [1] }), 400, 'spec.externalIPs[0]', 'json: cannot unmarshal number into Go struct field ServiceSpec.spec.externalIPs of type string'],
    ['externalIPs: "x"', svc({ externalIPs: 'x' }), 400, 'spec.externalIPs', 'of type []string'],
    ['ports: [42]', svc({ ports: [42] }), 400, 'spec.ports[0]', 'of type v1.ServicePort'],
    ['clusterIP: 1234', svc({ clusterIP: 1234 }), 400, 'spec.clusterIP', 'ServiceSpec.spec.clusterIP of type string'],
    ['labels: [...]', svc({}, { name: 'x', labels: ['a'] }), 400, 'metadata.labels', 'of type map[string]string'],
    ['annotations with a number', svc({}, { name: 'x', annotations: { a: 1 } }), 400, 'metadata.annotations.a', 'of type string'],
    ['port: 1.5', svc({ ports: [{ port: 1.5 }] }), 400, 'spec.ports[0].port', 'cannot unmarshal number 1.5'],
    ['port beyond int32', svc({ ports: [{ port: 2 ** 31 }] }), 400, 'spec.ports[0].port', 'of type int32'],
    ['podIP: 5', pod({ status: { podIP: 5 } }), 400, 'status.podIP', 'PodStatus.status.podIP of type string'],
    ['podIPs: ["10.244.0.2"]', pod({ status: { podIPs: ['10.244.0.2'] } }), 400, 'status.podIPs[0]', 'of type v1.PodIP'],
    ['Pod status.conditions: "x"', pod({ status: { conditions: 'x' } }), 400, 'status.conditions', 'of type []v1.PodCondition'],
    ['Node status.addresses: "x"', node({ status: { addresses: 'x' } }), 400, 'status.addresses', 'of type []v1.NodeAddress'],
    ['creationTimestamp not RFC 3339', svc({}, { name: 'x', creationTimestamp: 'yesterday' }), 400, 'metadata.creationTimestamp', 'parsing time'],
    // null items in lists: 422 at the item
    ['ports: [null]', svc({ ports: [null] }), 422, 'spec.ports[0]', 'must not be null'],
    ['containers: [null]', pod({ spec: { containers: [null] } }), 422, 'spec.containers[0]', 'must not be null'],
    ['podIPs: [null]', pod({ status: { podIPs: [null] } }), 422, 'status.podIPs[0]', 'must not be null'],
    ['EndpointSlice endpoints: [null]', slice({ endpoints: [null] }), 422, 'endpoints[0]', 'must not be null'],
    ['Node conditions: [null]', node({ status: { conditions: [null] } }), 422, 'status.conditions[0]', 'must not be null'],
    ['Deployment matchExpressions: [null]', deployment({ matchExpressions: [null] }), 422, 'spec.selector.matchExpressions[0]', 'must not be null'],
    // values kube-apiserver's validation refuses: 422 with the field path
    ['loadBalancerSourceRanges 10.0.0.0/33', svc({ type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0/33'] }), 422, 'spec.loadBalancerSourceRanges[0]', 'valid CIDR'],
    ['loadBalancerSourceRanges garbage', svc({ type: 'LoadBalancer', loadBalancerSourceRanges: ['garbage'] }), 422, 'spec.loadBalancerSourceRanges[0]', 'valid CIDR'],
    ['source-ranges annotation garbage', svc({ type: 'LoadBalancer' }, { name: 'x', annotations: { 'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8,nope' } }), 422, 'metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]', 'comma separated list of CIDRs'],
    ['externalIPs 0.0.0.0', svc({ externalIPs: ['0.0.0.0'] }), 422, 'spec.externalIPs[0]', 'may not be unspecified'],
    ['externalIPs 127.0.0.1', svc({ externalIPs: ['127.0.0.1'] }), 422, 'spec.externalIPs[0]', 'loopback'],
    ['externalIPs 169.254.1.1', svc({ externalIPs: ['169.254.1.1'] }), 422, 'spec.externalIPs[0]', 'link-local'],
    ['externalIPs 224.0.0.1', svc({ externalIPs: ['224.0.0.1'] }), 422, 'spec.externalIPs[0]', 'link-local multicast'],
    ['externalIPs not an IP', svc({ externalIPs: ['web'] }), 422, 'spec.externalIPs[0]', 'valid IP'],
    ['sessionAffinity: Sticky', svc({ sessionAffinity: 'Sticky' }), 422, 'spec.sessionAffinity', 'Unsupported value: "Sticky"'],
    ['clusterIP not an IP', svc({ clusterIP: '10.96.0.300' }), 422, 'spec.clusterIP', 'valid IP'],
    ['EndpointSlice address of the wrong family', slice({ endpoints: [{ addresses: ['fd00::1'] }] }), 422, 'endpoints[0].addresses[0]', 'IPv4 address'],
    ['EndpointSlice address that is no IP', slice({ endpoints: [{ addresses: ['10.0.0.300'] }] }), 422, 'endpoints[0].addresses[0]', 'valid IP'],
    ['EndpointSlice loopback address', slice({ endpoints: [{ addresses: ['127.0.0.1'] }] }), 422, 'endpoints[0].addresses[0]', 'loopback'],
    ['Node address without a type', node({ status: { addresses: [{ address: '10.0.0.1' }] } }), 422, 'status.addresses[0].type', 'Required'],
    ['Node InternalIP that is no IP', node({ status: { addresses: [{ type: 'InternalIP', address: 'x' }] } }), 422, 'status.addresses[0].address', 'valid IP'],
    ['matchExpressions operator', deployment({ matchExpressions: [{ key: 'a', operator: 'Sometimes' }] }), 422, 'spec.selector.matchExpressions[0].operator', 'Unsupported value'],
    ['matchExpressions In without values', deployment({ matchExpressions: [{ key: 'a', operator: 'In' }] }), 422, 'spec.selector.matchExpressions[0].values', 'Required'],
    ['ConfigMap data over 1 MiB', { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, data: { a: 'x'.repeat(1024 * 1024 + 1) } }, 422, '', 'at most 1048576 bytes'],
  ])('%s', async (_name, body, status, field, message) => {
    const base = await start()
    const url = `${base}${paths[(body as { kind: string }).kind]!}`
    const r = await call(url, 'POST', body)
    expect(r.status).toBe(status)
    expect(r.json).toMatchObject({ kind: 'Status', code: status, reason: status === 400 ? 'BadRequest' : 'Invalid' })
    expect(causeFields(r)).toContain(field)
    expect(String(r.json['message'])).toContain(message)
    expect((await call(`${url}/x`, 'GET')).status).toBe(404)
    expect((await call(url, 'GET')).json['items']).toEqual([])
  })

  it('words a type error as kube-apiserver does', async () => {
    const base = await start()
    const r = await call(`${base}${paths['Service']!}`, 'POST', svc({ externalIPs: [1] }))
    expect(r.json['message']).toBe('Service in version "v1" cannot be handled as a Service: json: cannot unmarshal number into Go struct field ServiceSpec.spec.externalIPs of type string')
  })

  it('refuses wrong types on status writes, patches and updates too', async () => {
    const base = await start()
    const pods = `${base}${paths['Pod']!}`
    expect((await call(pods, 'POST', pod({}))).status).toBe(201)
    const live = (await call(`${pods}/x`, 'GET')).json
    expect((await call(`${pods}/x/status`, 'PUT', { ...live, status: { podIP: 5 } })).status).toBe(400)
    expect((await call(`${pods}/x/status`, 'PUT', { ...live, status: { podIPs: [null] } })).status).toBe(422)
    expect((await call(`${pods}/x/status`, 'PATCH', { status: { podIPs: ['10.244.0.2'] } }, 'application/merge-patch+json')).status).toBe(400)
    const badIP = await call(`${pods}/x/status`, 'PATCH', { status: { podIP: 'nope', podIPs: [{ ip: 'nope' }] } }, 'application/merge-patch+json')
    expect(badIP.status).toBe(422)
    expect(causeFields(badIP)).toEqual(['status.podIP', 'status.podIPs[0].ip'])
    expect((await call(`${pods}/x`, 'GET')).json['status'] ?? {}).not.toHaveProperty('podIP')
    const svcs = `${base}${paths['Service']!}`
    expect((await call(svcs, 'POST', svc({}))).status).toBe(201)
    const smp = await call(`${svcs}/x`, 'PATCH', { spec: { ports: 'x' } }, 'application/strategic-merge-patch+json')
    expect(smp).toMatchObject({ status: 400, json: { reason: 'BadRequest' } })
    expect(causeFields(smp)).toEqual(['spec.ports'])
    const jp = await call(`${svcs}/x`, 'PATCH', [{ op: 'add', path: '/spec/externalIPs', value: ['127.0.0.1'] }], 'application/json-patch+json')
    expect(jp.status).toBe(422)
    expect((await call(`${svcs}/x`, 'GET')).json['spec']).not.toHaveProperty('externalIPs')
  })

  it('drops null fields and unknown fields (with a warning), rejects unknown fields under Strict', async () => {
    const base = await start()
    const cms = `${base}${paths['ConfigMap']!}`
    const res = await fetch(cms, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ metadata: { name: 'a', labels: null }, datta: { a: '1' }, data: { k: 'v' } }) })
    expect(res.status).toBe(201)
    expect(res.headers.get('warning')).toContain('unknown field \\"datta\\"')
    const stored = (await res.json()) as Record<string, unknown>
    expect(stored).not.toHaveProperty('datta')
    expect(stored['metadata']).not.toHaveProperty('labels')
    const strict = await call(`${cms}?fieldValidation=Strict`, 'POST', { metadata: { name: 'b' }, spec: { nested: { x: 1 } } })
    expect(strict).toMatchObject({ status: 400, json: { message: 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec"' } })
    const deep = await call(`${base}${paths['Pod']!}?fieldValidation=Strict`, 'POST', pod({ spec: { containers: [{ ...container, ports: [{ containerPort: 80, nmae: 'x' }] }] } }))
    expect(deep.json['message']).toContain('unknown field "spec.containers[0].ports[0].nmae"')
  })
})

describe('structural limits', () => {
  const nest = (depth: number): string => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`

  it('answers 400 for JSON nested 10,000 deep or just past the limit, and the server stays up', async () => {
    const base = await start()
    const cms = `${base}${paths['ConfigMap']!}`
    for (const depth of [10_000, 501]) {
      const r = await call(cms, 'POST', `{"metadata":{"name":"deep"},"data":${nest(depth)}}`)
      expect(r).toMatchObject({ status: 400, json: { reason: 'BadRequest' } })
      expect(String(r.json['message'])).toContain('exceeded max depth')
    }
    const patch = await call(`${cms}/deep`, 'PATCH', nest(10_000), 'application/merge-patch+json')
    expect(patch.status).toBe(400)
    expect((await call(cms, 'POST', { metadata: { name: 'ok' }, spare: JSON.parse(nest(400)) })).status).toBe(201)
  })

  it('answers 413 for a body over 3 MiB (a 7 MB ConfigMap)', async () => {
    const base = await start()
    const cms = `${base}${paths['ConfigMap']!}`
    const r = await call(cms, 'POST', { metadata: { name: 'big' }, data: { a: 'x'.repeat(7 * 1024 * 1024) } })
    expect(r).toMatchObject({ status: 413, json: { code: 413, reason: 'RequestEntityTooLarge' } })
    expect((await call(`${cms}/big`, 'GET')).status).toBe(404)
  })

  it('answers 413 for an object over 1.5 MiB that fits every other limit', async () => {
    const base = await start()
    const secrets = `${base}/api/v1/namespaces/default/secrets`
    // 1 MiB of data (base64: 1.33 MiB) and 250 KiB of annotations: each within its own limit, 1.6 MiB together
    const data = { a: Buffer.alloc(1024 * 1024, 7).toString('base64') }
    const r = await call(secrets, 'POST', { metadata: { name: 'wide', annotations: { note: 'x'.repeat(250 * 1024) } }, data })
    expect(r).toMatchObject({ status: 413, json: { reason: 'RequestEntityTooLarge' } })
    expect((await call(`${secrets}/wide`, 'GET')).status).toBe(404)
    expect((await call(secrets, 'POST', { metadata: { name: 'fits' }, data })).status).toBe(201)
  })
})

describe('body media types', () => {
  const cm = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } })

  it.each(['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml'])('%s is 415 and not stored', async (type) => {
    const base = await start()
    const cms = `${base}${paths['ConfigMap']!}`
    const r = await call(cms, 'POST', cm('csrf'), type)
    expect(r).toMatchObject({ status: 415, json: { reason: 'UnsupportedMediaType' } })
    expect((await call(`${cms}/csrf`, 'GET')).status).toBe(404)
    expect((await call(`${cms}/csrf`, 'PUT', cm('csrf'), type)).status).toBe(415)
  })

  it('a JSON body labelled protobuf is a 400 naming the missing protobuf prefix, and not stored', async () => {
    const base = await start()
    const r = await call(`${base}${paths['ConfigMap']!}`, 'POST', cm('p'), 'application/vnd.kubernetes.protobuf')
    expect(r).toMatchObject({ status: 400, json: { reason: 'BadRequest' } })
    expect(String(r.json['message'])).toContain('does not appear to be a protobuf message')
    expect((await call(`${base}${paths['ConfigMap']!}/p`, 'GET')).status).toBe(404)
  })

  it('accepts JSON, YAML, and (as kube-apiserver does) a body without Content-Type as JSON', async () => {
    const base = await start()
    const cms = `${base}${paths['ConfigMap']!}`
    expect((await call(cms, 'POST', cm('j'))).status).toBe(201)
    expect((await call(cms, 'POST', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\n', 'application/yaml')).status).toBe(201)
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${cms}`, { method: 'POST' }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
      req.on('error', reject)
      req.end(cm('none'))
    })
    expect(status).toBe(201)
  })
})

describe('prototype pollution (issue 10 item 3)', () => {
  afterEach(() => {
    delete (Object.prototype as Record<string, unknown>)['unschedulable']
  })

  it.each([
    ['JSON patch', [{ op: 'add', path: '/__proto__/unschedulable', value: true }], 'application/json-patch+json'],
    ['JSON patch through constructor', [{ op: 'add', path: '/constructor/prototype/unschedulable', value: true }], 'application/json-patch+json'],
    ['merge patch', '{"__proto__":{"unschedulable":true},"data":{"__proto__":{"unschedulable":true}}}', 'application/merge-patch+json'],
    ['strategic merge patch', '{"__proto__":{"unschedulable":true},"metadata":{"__proto__":{"unschedulable":true}}}', 'application/strategic-merge-patch+json'],
  ])('a %s on a ConfigMap never reaches Object.prototype, and nodes stay schedulable', async (_name, patch, type) => {
    const base = await start()
    const cms = `${base}${paths['ConfigMap']!}`
    expect((await call(cms, 'POST', { metadata: { name: 'c' } })).status).toBe(201)
    const r = await call(`${cms}/c`, 'PATCH', patch, type)
    expect(r.status).toBeLessThan(500)
    expect(({} as Record<string, unknown>)['unschedulable']).toBeUndefined()
    const n = { metadata: { name: 'n' }, spec: {} } as unknown as Node
    const p = { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [container] } } as unknown as Pod
    expect(schedulePod(p, [n], new Map())).toMatchObject({ kind: 'scheduled' })
    const live = (await call(`${cms}/c`, 'GET')).json
    expect(Object.getPrototypeOf(live)).toBe(Object.prototype)
    expect(live).not.toHaveProperty('__proto__.unschedulable')
  })
})
