import { describe, expect, it } from 'vitest'
import { decodeObject, exceedsJsonDepth, schemaKindFor, schemaKindOfResource, validateStoredObject } from '../../../src/api/index.js'
import { apiVersionOf, servedResources, storageResource } from '../../../src/apiserver/index.js'

const decode = (kind: string, value: unknown, apiVersion = 'v1') => decodeObject(apiVersion, kind, value)!

describe('the schema table', () => {
  it('has an entry for every served resource, under its store resource', () => {
    for (const r of servedResources) {
      expect(schemaKindFor(apiVersionOf(r), r.kind)?.resource, r.kind).toBe(storageResource(r))
      expect(schemaKindOfResource(storageResource(r))?.kind).toBe(r.kind)
    }
  })
})

describe('decodeObject', () => {
  it('prunes null and unknown fields, keeps apiVersion and kind, and reports unknown paths', () => {
    const d = decode('Service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', labels: null }, spec: { ports: [{ port: 80, nmae: 'x' }], bogus: 1, clusterIP: null } })
    expect(d.typeErrors).toEqual([])
    expect(d.object).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } })
    expect(d.unknownFields).toEqual(['spec.ports[0].nmae', 'spec.bogus'])
  })

  it('accepts the JSON forms of the apimachinery scalar types and refuses others', () => {
    const port = (targetPort: unknown) => decode('Service', { spec: { ports: [{ port: 80, targetPort }] } }).typeErrors.length
    expect([port(8080), port('http'), port(true), port(1.5), port(2 ** 31)]).toEqual([0, 0, 1, 1, 1])
    const ts = (creationTimestamp: unknown) => decode('ConfigMap', { metadata: { creationTimestamp } }).typeErrors.length
    expect([ts('2026-12-06T00:00:00Z'), ts('2026-12-06T00:00:00.123+01:00'), ts('today'), ts(5)]).toEqual([0, 0, 1, 1])
    const q = (v: unknown) => decode('Pod', { spec: { containers: [{ name: 'c', resources: { limits: { cpu: v } } }] } }).typeErrors.length
    expect([q('500m'), q(2), q('1.5Gi'), q('lots'), q(true)]).toEqual([0, 0, 0, 1, 1])
    const fields = decode('ConfigMap', { metadata: { managedFields: [{ fieldsV1: { 'f:data': { 'f:a': {} } } }] } })
    expect(fields.typeErrors).toEqual([])
    expect(decode('Secret', { data: { a: 'aGVsbG8=', b: 'not base64!' } }).typeErrors.map((e) => e.field)).toEqual(['data.b'])
  })

  it('reads the fields of embedded structs inline, as the JSON form has them (Probe.httpGet, Volume.configMap, …)', () => {
    const container = {
      name: 'c', image: 'i',
      readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
      livenessProbe: { exec: { command: ['true'] } },
      env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cm', key: 'a' } } }],
      envFrom: [{ secretRef: { name: 's' } }],
    }
    const d = decode('Pod', { spec: { containers: [container], volumes: [{ name: 'v', configMap: { name: 'cm' } }] } })
    expect(d.typeErrors).toEqual([])
    expect(d.unknownFields).toEqual([])
    expect(d.object).toEqual({ spec: { containers: [container], volumes: [{ name: 'v', configMap: { name: 'cm' } }] } })
    expect(decode('Pod', { spec: { containers: [{ name: 'c', readinessProbe: { handler: {} } }] } }).unknownFields).toEqual(['spec.containers[0].readinessProbe.handler'])
    expect(decode('Pod', { spec: { containers: [{ name: 'c', readinessProbe: { httpGet: { port: true } } }] } }).typeErrors[0]?.field).toBe('spec.containers[0].readinessProbe.httpGet.port')
  })

  it('gives a null map value its zero value, and refuses null list items', () => {
    const d = decode('ConfigMap', { data: { a: null } })
    expect(d.object).toEqual({ data: { a: '' } })
    expect(decode('Service', { spec: { externalIPs: [null] } }).nullItems.list).toEqual([{ field: 'spec.externalIPs[0]', type: 'FieldValueInvalid', message: 'Invalid value: null: must not be null' }])
  })

  it('treats "__proto__" and "constructor" as unknown fields, and keeps them as own keys in maps', () => {
    const body = JSON.parse('{"__proto__":{"x":1},"constructor":{"x":1},"data":{"__proto__":"v"}}') as unknown
    const d = decode('ConfigMap', body)
    expect(d.unknownFields).toEqual(['__proto__', 'constructor'])
    expect(Object.getPrototypeOf(d.object)).toBe(Object.prototype)
    const data = d.object['data'] as object
    expect(Object.hasOwn(data, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype)
  })

  it('measures depth without recursion, at any depth', () => {
    let v: unknown = {}
    for (let i = 0; i < 200_000; i++) v = [v]
    expect(exceedsJsonDepth(v, 500)).toBe(true)
    expect(exceedsJsonDepth({ a: [{ b: {} }] }, 4)).toBe(false)
    expect(exceedsJsonDepth({ a: [{ b: {} }] }, 3)).toBe(true)
    expect(decode('ConfigMap', v).typeErrors[0]?.message).toBe('json: exceeded max depth')
  })
})

describe('validateStoredObject (for the startup check of a data dir)', () => {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] } }

  it('is empty for a valid object and for resources without a schema', () => {
    expect(validateStoredObject('services', svc)).toEqual([])
    expect(validateStoredObject('ipaddresses', { anything: [null] })).toEqual([])
  })

  it('names the field of each problem in an object an older kpe stored', () => {
    expect(validateStoredObject('services', { ...svc, spec: { ...svc.spec, externalIPs: [1] } })).toEqual([
      'spec.externalIPs[0]: json: cannot unmarshal number into Go struct field ServiceSpec.spec.externalIPs of type string',
    ])
    expect(validateStoredObject('nodes', { metadata: { name: 'n' }, status: { addresses: 'x' } })[0]).toMatch(/^status\.addresses: json: cannot unmarshal string/)
    expect(validateStoredObject('endpointslices.discovery.k8s.io', { metadata: { name: 's' }, addressType: 'IPv4', endpoints: [null] })).toEqual(['endpoints[0]: Invalid value: null: must not be null'])
    expect(validateStoredObject('services', { ...svc, spec: { ...svc.spec, sessionAffinity: 'Sticky' } })[0]).toMatch(/^spec\.sessionAffinity: Unsupported value: "Sticky"/)
    expect(validateStoredObject('configmaps', 'text')).toEqual(['the stored value is not an object'])
  })
})
