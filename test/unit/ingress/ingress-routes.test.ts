/** The Ingress routing core against the networking.k8s.io/v1 rules: hosts, path types, precedence, classes. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildIngressRoutes, hostMatches, matchIngress, prefixMatches, servesIngress, tlsSecretFor } from '../../../src/ingress/index.js'
import type { KubeObject } from '../../../src/store/index.js'

const backend = (service: string, port: number | string = 80) => ({ service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } })
const ingress = (name: string, spec: Record<string, unknown>, extra: Partial<KubeObject['metadata']> = {}): KubeObject =>
  ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z', ...extra }, spec }) as KubeObject

const shop = ingress('shop', {
  tls: [{ hosts: ['shop.example'], secretName: 'shop-tls' }, { hosts: ['*.wild.example'], secretName: 'wild-tls' }],
  rules: [
    { host: 'shop.example', http: { paths: [
      { path: '/api', pathType: 'Prefix', backend: backend('api') },
      { path: '/api/v1/', pathType: 'Prefix', backend: backend('v1') },
      { path: '/', pathType: 'Prefix', backend: backend('web', 'http') },
      { path: '/api/exact', pathType: 'Exact', backend: backend('exact') },
      { path: '/api/exact', pathType: 'Prefix', backend: backend('exact-prefix') },
    ] } },
    { host: '*.wild.example', http: { paths: [{ path: '/', pathType: 'ImplementationSpecific', backend: backend('wild') }] } },
    { host: 'a.wild.example', http: { paths: [{ path: '/only', pathType: 'Exact', backend: backend('a-only') }] } },
    { http: { paths: [{ path: '/any', pathType: 'Prefix', backend: backend('any-host') }] } },
  ],
})
const routes = buildIngressRoutes([shop], true)

describe('Ingress routing', () => {
  it.each([
    ['shop.example', '/api', 'api'],
    ['shop.example', '/api/', 'api'],
    ['shop.example', '/api/items?x=1', 'api'],
    ['shop.example', '/apis', 'web'],
    ['shop.example', '/api/v1', 'v1'],
    ['shop.example', '/api/v1/x', 'v1'],
    ['shop.example', '/api/exact', 'exact'],
    ['shop.example', '/api/exact/', 'exact-prefix'],
    ['Shop.Example:8088', '/', 'web'],
    ['b.wild.example', '/x', 'wild'],
    ['a.wild.example', '/only', 'a-only'],
    ['other.example', '/any/thing', 'any-host'],
  ])('%s%s -> %s', (host, path, service) => {
    expect(matchIngress(routes, host, path)?.backend.service).toBe(service)
  })

  it('an exact host without a matching path does not fall back to the wildcard or host-less rules', () => {
    expect(matchIngress(routes, 'a.wild.example', '/')).toBeUndefined()
    expect(matchIngress(routes, 'x.y.wild.example', '/')).toBeUndefined()
    expect(matchIngress(routes, 'wild.example', '/')).toBeUndefined()
  })

  it('the default backend takes what no rule matches; the oldest Ingress wins conflicts', () => {
    const older = ingress('older', { defaultBackend: backend('fallback'), rules: [{ host: 'shop.example', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: backend('older-api') }] } }] }, { creationTimestamp: '2025-01-01T00:00:00Z' })
    const both = buildIngressRoutes([shop, older], true)
    expect(matchIngress(both, 'nowhere.example', '/')).toMatchObject({ backend: { service: 'fallback' }, rule: 'default backend' })
    expect(matchIngress(both, 'shop.example', '/api')?.backend.service).toBe('older-api')
  })

  it('serves Ingresses of class kpe, and unnamed ones only while kpe is the default class', () => {
    expect(servesIngress(ingress('a', { ingressClassName: 'kpe' }), false)).toBe(true)
    expect(servesIngress(ingress('b', {}), true)).toBe(true)
    expect(servesIngress(ingress('c', {}), false)).toBe(false)
    expect(servesIngress(ingress('d', { ingressClassName: 'nginx' }), true)).toBe(false)
    expect(servesIngress(ingress('e', {}, { annotations: { 'kubernetes.io/ingress.class': 'kpe' } }), false)).toBe(true)
  })

  it('picks the TLS Secret by SNI host, exact before wildcard', () => {
    expect(tlsSecretFor(routes, 'shop.example')).toEqual({ namespace: 'shop', name: 'shop-tls' })
    expect(tlsSecretFor(routes, 'x.wild.example')).toEqual({ namespace: 'shop', name: 'wild-tls' })
    expect(tlsSecretFor(routes, 'nope.example')).toBeUndefined()
  })

  it('leaves out an Ingress with an unreadable field, naming the field', () => {
    const bad = ingress('bad', { rules: [{ host: 'x', http: { paths: [{ path: 'relative', backend: backend('s') }] } }] })
    expect(buildIngressRoutes([bad, shop], true).skipped).toEqual([{ ingress: 'shop/bad', error: 'spec.rules[0].http.paths[0].path: must be an absolute path' }])
  })

  it('Prefix matching is by whole path elements (property, seeded)', () => {
    const segment = fc.stringMatching(/^[a-z]{1,4}$/)
    fc.assert(fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.array(segment, { maxLength: 3 }), segment, (prefix, rest, glued) => {
      const p = `/${prefix.join('/')}`
      expect(prefixMatches(p, `${p}${rest.map((r) => `/${r}`).join('')}`)).toBe(true)
      expect(prefixMatches(`${p}/`, p)).toBe(true)
      expect(prefixMatches(p, `${p}${glued}`)).toBe(false)
    }), { seed: 5, numRuns: 300 })
    expect(hostMatches('*.example.com', 'a.example.com')).toBe(true)
    expect(hostMatches('*.example.com', 'example.com')).toBe(false)
  })
})
