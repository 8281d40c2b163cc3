import { describe, expect, it } from 'vitest'
import { validateObjectFields } from '../../../src/api/index.js'

const fields = (kind: string, obj: Record<string, unknown>, profile: 'apiserver' | 'rules-input' = 'apiserver') => validateObjectFields(kind, obj, profile).list

describe('validateObjectFields', () => {
  const svc = (spec: Record<string, unknown>) => ({ metadata: { name: 'web' }, spec: { ports: [{ port: 80 }], ...spec } })

  it('accepts legacy IPv4 forms with leading zeros only for rules input (upstream vectors), never on the API', () => {
    expect(fields('Service', svc({ clusterIP: '010.096.000.010' }), 'rules-input')).toEqual([])
    expect(fields('Service', svc({ clusterIP: '010.096.000.010' })).map((e) => e.field)).toEqual(['spec.clusterIP'])
    const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] }, status: { podIP: '10.244.0.02', podIPs: [{ ip: '10.244.0.2' }] } }
    expect(fields('Pod', pod, 'rules-input')).toEqual([])
  })

  it('requires container images on the API, not for rules input', () => {
    const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } }
    expect(fields('Pod', pod).map((e) => e.field)).toEqual(['spec.containers[0].image'])
    expect(fields('Pod', pod, 'rules-input')).toEqual([])
  })

  it('cuts huge values short in messages', () => {
    const errs = fields('ConfigMap', { metadata: { name: 'c', labels: { a: 'x'.repeat(100_000) } } })
    expect(errs.map((e) => e.field)).toEqual(['metadata.labels.a'])
    expect(errs[0]!.message.length).toBeLessThan(600)
    expect(errs[0]!.message).toContain('(truncated)')
  })

  it('refuses ConfigMap keys that are not file names', () => {
    expect(fields('ConfigMap', { metadata: { name: 'c' }, data: { '..data': 'x', '.': 'y', 'a/b': 'z', 'ok.key_1': 'w' } }).map((e) => e.message)).toEqual([
      expect.stringContaining("must not be '.' or '..'"), expect.stringContaining("must not be '.' or '..'"), expect.stringContaining('a valid config key'),
    ])
  })

  it('checks selectors and traffic settings that the proxier and controllers read', () => {
    expect(fields('Service', svc({ externalTrafficPolicy: 'Nearest', internalTrafficPolicy: 'Local', ipFamilies: ['IPv5'] })).map((e) => e.field))
      .toEqual(['spec.externalTrafficPolicy', 'spec.ipFamilies[0]'])
    expect(fields('Service', svc({ type: 'ClusterIP', ports: [{ port: 80, nodePort: 30000 }] })).map((e) => `${e.field} ${e.type}`)).toEqual(['spec.ports[0].nodePort FieldValueForbidden'])
    const rs = (selector: unknown) => ({ metadata: { name: 'r' }, spec: { selector, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } })
    expect(fields('ReplicaSet', rs({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).map((e) => e.field)).toEqual(['spec.selector.matchExpressions[0].values'])
    expect(fields('ReplicaSet', rs({ matchLabels: { a: 'c' } })).map((e) => e.field)).toEqual(['spec.template.metadata.labels'])
    expect(fields('ReplicaSet', rs({})).map((e) => e.field)).toEqual(['spec.selector'])
  })
})
