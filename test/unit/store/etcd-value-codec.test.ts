import { describe, expect, it } from 'vitest'
import { decodeStoredValue, encodeStoredValue, sameUpToProtobufDefaults, type KubeObject } from '../../../src/store/index.js'

const service: KubeObject = {
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '41', creationTimestamp: '2026-01-02T03:04:05Z', labels: { app: 'web' } },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'web' } },
  status: { loadBalancer: {} },
}

describe('etcd value encoding', () => {
  it('stores a built-in kind in the k8s\\0 protobuf envelope, without its resourceVersion, and reads it back at the mod revision', () => {
    const enc = encodeStoredValue(service)
    expect(enc.encoding).toBe('protobuf')
    expect([...enc.bytes.subarray(0, 4)]).toEqual([0x6b, 0x38, 0x73, 0x00])
    expect(enc.bytes.includes(Buffer.from('"41"'))).toBe(false)
    const back = decodeStoredValue(enc.bytes, 57)
    expect(back).toEqual({ ...service, metadata: { ...service.metadata, resourceVersion: '57' } })
  })

  it('stores custom resources and CRDs as JSON, as kube-apiserver does', () => {
    const widget: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default', resourceVersion: '3' }, spec: { size: 3 } }
    const crd: KubeObject = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' }, spec: { group: 'example.com' } }
    for (const o of [widget, crd]) {
      const enc = encodeStoredValue(o)
      expect(enc.encoding).toBe('json')
      expect(JSON.parse(enc.bytes.toString('utf8')).metadata.resourceVersion).toBeUndefined()
      expect(decodeStoredValue(enc.bytes, 9).metadata.resourceVersion).toBe('9')
    }
  })

  it('falls back to JSON when the protobuf message would drop a field, so nothing stored is lost', () => {
    const odd = { ...service, spec: { ...(service['spec'] as object), notAField: { kept: true } } }
    const enc = encodeStoredValue(odd)
    expect(enc.encoding).toBe('json')
    expect(decodeStoredValue(enc.bytes, 1)['spec']).toMatchObject({ notAField: { kept: true } })
  })

  it('stays protobuf when the round trip drops only what protobuf never carries: empty values, a fraction of a second', () => {
    const pod: KubeObject = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', managedFields: [] },
      spec: { containers: [{ name: 'c', image: 'x' }] },
      status: { phase: 'Running', message: '', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-06T05:47:27.326Z' }] },
    }
    const enc = encodeStoredValue(pod)
    expect(enc.encoding).toBe('protobuf')
    const back = decodeStoredValue(enc.bytes, 2)
    expect((back['status'] as { conditions: { lastTransitionTime: string }[] }).conditions[0]?.lastTransitionTime).toBe('2026-12-06T05:47:27Z')
    expect(back.metadata.managedFields).toBeUndefined()
  })

  it('tells data loss from protobuf defaults', () => {
    expect(sameUpToProtobufDefaults({ a: 0, b: '', c: [], d: { e: false } }, {})).toBe(true)
    expect(sameUpToProtobufDefaults({ t: '2026-01-01T00:00:00.5Z' }, { t: '2026-01-01T00:00:00Z' })).toBe(true)
    expect(sameUpToProtobufDefaults({ t: '2026-01-01T00:00:00.123456Z' }, { t: '2026-01-01T00:00:00.123456Z' })).toBe(true)
    expect(sameUpToProtobufDefaults({ a: 1 }, {})).toBe(false)
    expect(sameUpToProtobufDefaults({ a: 'x' }, { a: 'y' })).toBe(false)
    expect(sameUpToProtobufDefaults({ t: '2026-01-01T00:00:01Z' }, { t: '2026-01-01T00:00:00Z' })).toBe(false)
    expect(sameUpToProtobufDefaults({}, { added: 'x' })).toBe(false)
    expect(sameUpToProtobufDefaults([1, 2], [1])).toBe(false)
  })

  it('names what is wrong with a value that is neither form', () => {
    expect(() => decodeStoredValue(Buffer.from('[1]'), 1)).toThrow(/not a JSON object/)
    expect(() => decodeStoredValue(Buffer.from('{"kind":"X"}'), 1)).toThrow(/no metadata/)
    expect(() => decodeStoredValue(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0xff, 0xff]), 1)).toThrow()
  })
})
