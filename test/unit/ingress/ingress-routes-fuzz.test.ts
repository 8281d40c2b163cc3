/**
 * Whatever the store holds (objects written before validation, wrong types anywhere), building
 * Ingress routes and the DNS zone never throws: a bad object is left out and named (seeded fuzz).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Pod, Service } from '../../../src/api/index.js'
import { answerQuestion, buildDnsZone } from '../../../src/dns/index.js'
import { buildIngressRoutes, matchIngress, tlsSecretFor } from '../../../src/ingress/index.js'
import type { KubeObject } from '../../../src/store/index.js'

const junk = fc.anything({ maxDepth: 3, withNullPrototype: false })
const backend = fc.oneof(junk, fc.record({ service: fc.record({ name: fc.oneof(fc.string(), junk), port: fc.oneof(fc.record({ number: fc.oneof(fc.integer(), junk) }), fc.record({ name: fc.string() }), junk) }) }))
const path = fc.record({ path: fc.oneof(fc.constantFrom('/', '/api', '/api/'), fc.string(), junk), pathType: fc.oneof(fc.constantFrom('Exact', 'Prefix', 'ImplementationSpecific'), junk), backend })
const spec = fc.oneof(junk, fc.record({
  ingressClassName: fc.oneof(fc.constant('kpe'), fc.constant(undefined), junk),
  defaultBackend: fc.oneof(fc.constant(undefined), backend),
  rules: fc.oneof(junk, fc.array(fc.record({ host: fc.oneof(fc.constantFrom('a.example', '*.example', ''), fc.string(), junk), http: fc.oneof(junk, fc.record({ paths: fc.oneof(junk, fc.array(path, { maxLength: 3 })) })) }), { maxLength: 3 })),
  tls: fc.oneof(junk, fc.array(fc.record({ hosts: fc.oneof(junk, fc.array(fc.string(), { maxLength: 2 })), secretName: fc.oneof(fc.string(), junk) }), { maxLength: 2 })),
}, { requiredKeys: [] }))
const meta = fc.record({ name: fc.oneof(fc.string(), junk), namespace: fc.oneof(fc.string(), junk), creationTimestamp: fc.oneof(fc.string(), junk), annotations: fc.oneof(fc.constant(undefined), fc.dictionary(fc.string(), fc.string())) }, { requiredKeys: [] })

describe('no stored object crashes the Ingress controller or cluster DNS', () => {
  it('Ingress routes (fuzz, seeded)', () => {
    fc.assert(fc.property(fc.array(fc.record({ metadata: fc.oneof(meta, junk), spec }), { maxLength: 4 }), fc.string(), fc.string(), (ings, host, p) => {
      const routes = buildIngressRoutes(ings as unknown as KubeObject[], true)
      matchIngress(routes, host, p)
      tlsSecretFor(routes, host)
    }), { seed: 21, numRuns: 1500 })
  })

  it('the DNS zone (fuzz, seeded)', () => {
    const obj = fc.record({ metadata: fc.oneof(meta, junk), spec: fc.oneof(junk, fc.record({ clusterIP: fc.oneof(fc.constantFrom('None', '10.96.0.5'), junk), clusterIPs: junk, type: fc.oneof(fc.constantFrom('ExternalName', 'ClusterIP'), junk), externalName: junk, ports: junk, hostname: junk, subdomain: junk }, { requiredKeys: [] })), status: junk, endpoints: junk, addressType: junk, ports: junk }, { requiredKeys: [] })
    fc.assert(fc.property(fc.array(obj, { maxLength: 4 }), fc.array(obj, { maxLength: 4 }), fc.array(obj, { maxLength: 4 }), fc.domain(), (services, slices, pods, name) => {
      const zone = buildDnsZone({ services: services as unknown as Service[], endpointSlices: slices as unknown as EndpointSlice[], pods: pods as unknown as Pod[], clusterDomain: 'cluster.local' })
      expect(() => answerQuestion(zone, { name: `${name}.svc.cluster.local`, type: 'A' })).not.toThrow()
    }), { seed: 22, numRuns: 500 })
  })
})
