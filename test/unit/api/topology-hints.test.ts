/**
 * The EndpointSlice controller's topology hints: trafficDistribution PreferSameZone/PreferClose
 * (own zone), PreferSameNode (own node and zone), and topology-mode Auto's CPU-proportional
 * allocation with its fallbacks (too few endpoints, an endpoint without a zone, a node without CPU,
 * one zone only), checked row by row and as a property: Auto either hints every ready endpoint,
 * each zone within its minimum and maximum, or hints none.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyTopologyHints, cpuMillis, zoneAllocations, type EndpointSlice, type EndpointSliceEndpoint, type Node, type Service } from '../../../src/api/index.js'

const svc = (spec: Partial<Service['spec']> = {}, annotations?: Record<string, string>): Service =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default', ...(annotations ? { annotations } : {}) }, spec: { ports: [{ port: 80 }], ...spec } }) as Service
const ep = (ip: string, node: string, zone?: string, ready = true): EndpointSliceEndpoint =>
  ({ addresses: [ip], conditions: { ready, serving: ready, terminating: false }, nodeName: node, ...(zone ? { zone } : {}) })
const slice = (endpoints: EndpointSliceEndpoint[]): EndpointSlice =>
  ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 's-x', namespace: 'default' }, addressType: 'IPv4', endpoints, ports: [] }) as EndpointSlice
const node = (name: string, zone: string | undefined, cpu: string | null = '4'): Node =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} }, spec: {}, status: { ...(cpu ? { allocatable: { cpu } } : {}), conditions: [{ type: 'Ready', status: 'True' }] } }) as unknown as Node
const hints = (slices: EndpointSlice[]): unknown[] => slices.flatMap((s) => s.endpoints.map((e) => e.hints))

describe('trafficDistribution hints', () => {
  const endpoints = [ep('10.0.0.1', 'a', 'z1'), ep('10.0.0.2', 'b', 'z2')]
  it.each(['PreferSameZone', 'PreferClose'])('%s hints each endpoint to its own zone', (mode) => {
    expect(hints(applyTopologyHints(svc({ trafficDistribution: mode }), [slice(endpoints)], []))).toEqual([{ forZones: [{ name: 'z1' }] }, { forZones: [{ name: 'z2' }] }])
  })
  it('PreferSameNode hints the node and the zone', () => {
    expect(hints(applyTopologyHints(svc({ trafficDistribution: 'PreferSameNode' }), [slice(endpoints)], []))).toEqual([
      { forZones: [{ name: 'z1' }], forNodes: [{ name: 'a' }] }, { forZones: [{ name: 'z2' }], forNodes: [{ name: 'b' }] },
    ])
  })
  it('no trafficDistribution: hints are removed', () => {
    expect(hints(applyTopologyHints(svc(), [slice([{ ...endpoints[0]!, hints: { forZones: [{ name: 'z9' }] } }])], []))).toEqual([undefined])
  })
})

describe('topology-mode: Auto', () => {
  const auto = svc({}, { 'service.kubernetes.io/topology-mode': 'Auto' })
  const nodes = [node('a', 'z1'), node('b', 'z2')]

  it('keeps endpoints in their own zones when the zones hold their CPU share', () => {
    const out = applyTopologyHints(auto, [slice([ep('10.0.0.1', 'a', 'z1'), ep('10.0.0.2', 'b', 'z2')])], nodes)
    expect(hints(out)).toEqual([{ forZones: [{ name: 'z1' }] }, { forZones: [{ name: 'z2' }] }])
  })

  it('gives an endpoint of a crowded zone to a zone without one', () => {
    const out = applyTopologyHints(auto, [slice([ep('10.0.0.1', 'a', 'z1'), ep('10.0.0.2', 'a', 'z1'), ep('10.0.0.3', 'a', 'z1'), ep('10.0.0.4', 'b', 'z2')])], nodes)
    expect(hints(out).map((h) => (h as { forZones: { name: string }[] }).forZones[0]!.name).sort()).toEqual(['z1', 'z1', 'z2', 'z2'])
  })

  it.each([
    ['fewer endpoints than zones', [ep('10.0.0.1', 'a', 'z1')], [node('a', 'z1'), node('b', 'z2')]],
    ['an endpoint without a zone', [ep('10.0.0.1', 'a', 'z1'), ep('10.0.0.2', 'b')], [node('a', 'z1'), node('b', 'z2')]],
    ['a node without allocatable CPU', [ep('10.0.0.1', 'a', 'z1'), ep('10.0.0.2', 'b', 'z2')], [node('a', 'z1'), node('b', 'z2', null)]],
    ['a node without a zone', [ep('10.0.0.1', 'a', 'z1'), ep('10.0.0.2', 'b', 'z2')], [node('a', 'z1'), node('b', undefined)]],
    ['a single zone', [ep('10.0.0.1', 'a', 'z1'), ep('10.0.0.2', 'b', 'z1')], [node('a', 'z1'), node('b', 'z1')]],
  ])('falls back to no hints with %s', (_why, endpoints, ns) => {
    expect(hints(applyTopologyHints(auto, [slice(endpoints)], ns)).every((h) => h === undefined)).toBe(true)
  })

  it('wins over trafficDistribution', () => {
    const both = svc({ trafficDistribution: 'PreferSameZone' }, { 'service.kubernetes.io/topology-mode': 'Auto' })
    expect(hints(applyTopologyHints(both, [slice([ep('10.0.0.1', 'a', 'z1'), ep('10.0.0.2', 'b')])], nodes))).toEqual([undefined, undefined])
  })

  it('reads CPU quantities', () => {
    expect([cpuMillis('4'), cpuMillis('2500m'), cpuMillis('0.5'), cpuMillis('x')]).toEqual([4000, 2500, 500, undefined])
    expect(zoneAllocations(new Map([['z1', 0.5], ['z2', 0.5]]), 4)).toEqual(new Map([['z1', { minimum: 2, desired: 2, maximum: 2 }], ['z2', { minimum: 2, desired: 2, maximum: 2 }]]))
  })

  it('hints every ready endpoint within each zone\'s bounds, or none (property)', () => {
    const zones = ['z1', 'z2', 'z3']
    fc.assert(fc.property(
      fc.array(fc.constantFrom(...zones), { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 3, maxLength: 3 }),
      (epZones, cpus) => {
        const ns = zones.map((z, i) => node(`n-${z}`, z, String(cpus[i])))
        const out = applyTopologyHints(auto, [slice(epZones.map((z, i) => ep(`10.0.0.${i + 1}`, `n-${z}`, z)))], ns)
        const hs = hints(out)
        if (hs.every((h) => h === undefined)) return
        expect(hs.every((h) => h !== undefined)).toBe(true)
        const total = cpus.reduce((a, b) => a + b, 0)
        const alloc = zoneAllocations(new Map(zones.map((z, i) => [z, cpus[i]! / total])), epZones.length)!
        for (const z of zones) {
          const n = hs.filter((h) => (h as { forZones: { name: string }[] }).forZones[0]!.name === z).length
          expect(n).toBeGreaterThanOrEqual(alloc.get(z)!.minimum)
          expect(n).toBeLessThanOrEqual(alloc.get(z)!.maximum)
        }
      },
    ), { seed: 1414, numRuns: 300 })
  })
})
