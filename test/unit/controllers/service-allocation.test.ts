import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Service } from '../../../src/api/index.js'
import {
  addHeldValues, allocateService, emptyHeldValues, parseAddressRange, rangeContains, serviceRangeOfCidr, defaultNodePortRange,
  type ServiceAllocatorConfig,
} from '../../../src/controllers/index.js'

const config: ServiceAllocatorConfig = {
  serviceRanges: [serviceRangeOfCidr('10.96.0.0/12')!],
  nodePortRange: defaultNodePortRange,
  loadBalancerPool: [parseAddressRange('192.168.77.200-192.168.77.202')!],
}
const dual: ServiceAllocatorConfig = { ...config, serviceRanges: [serviceRangeOfCidr('10.96.0.0/12')!, serviceRangeOfCidr('fd00:10:96::/112')!] }

function makeService(name: string, spec: Service['spec'] = {}, namespace = 'default'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec } }
}

/** Runs allocateService against a list of already stored Services. */
function allocate(svc: Service, stored: readonly Service[] = [], cfg = config, old?: Service) {
  const held = emptyHeldValues()
  for (const s of stored) addHeldValues(held, s)
  return allocateService({
    service: svc, old, config: cfg,
    taken: { clusterIP: (ip) => held.clusterIPs.has(ip), nodePort: (p) => held.nodePorts.has(p), loadBalancerIP: (ip) => held.loadBalancerIPs.has(ip) },
  })
}

function ok(r: ReturnType<typeof allocate>): Service['spec'] & { ingress?: unknown } {
  if (r.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`)
  return { ...r.value.spec, ingress: r.value.ingress }
}

function stored(svc: Service, r: ReturnType<typeof allocate>): Service {
  if (r.kind !== 'ok') throw new Error('not ok')
  return { ...svc, spec: r.value.spec, status: { loadBalancer: { ingress: [...(r.value.ingress ?? [])] } } }
}

describe('ClusterIP allocation', () => {
  it('gives the kubernetes Service in default the first address of the range', () => {
    expect(ok(allocate(makeService('kubernetes'))).clusterIP).toBe('10.96.0.1')
  })

  it('never hands out the first address dynamically', () => {
    expect(ok(allocate(makeService('web'))).clusterIP).toBe('10.96.0.2')
    expect(ok(allocate(makeService('kubernetes', {}, 'other'))).clusterIP).toBe('10.96.0.2')
  })

  it('sets clusterIPs, ipFamilies and ipFamilyPolicy like kube-apiserver', () => {
    expect(ok(allocate(makeService('web')))).toMatchObject({ clusterIPs: ['10.96.0.2'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' })
  })

  it('honours a free requested address and rejects a taken one', () => {
    const a = makeService('a', { clusterIP: '10.96.5.5' })
    expect(ok(allocate(a)).clusterIP).toBe('10.96.5.5')
    const r = allocate(makeService('b', { clusterIP: '10.96.5.5' }), [stored(a, allocate(a))])
    expect(r).toEqual({ kind: 'invalid', causes: [{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: 'Invalid value: "10.96.5.5": failed to allocate IP 10.96.5.5: provided IP is already allocated' }] })
  })

  it('rejects an address outside the service CIDR with the upstream message', () => {
    expect(allocate(makeService('a', { clusterIP: '10.0.0.10' }))).toMatchObject({
      kind: 'invalid',
      causes: [{ field: 'spec.clusterIPs[0]', message: 'Invalid value: "10.0.0.10": failed to allocate IP 10.0.0.10: the provided IP (10.0.0.10) is not in the valid range. The range of valid IPs is 10.96.0.0/12' }],
    })
  })

  it('leaves headless Services without an address', () => {
    expect(ok(allocate(makeService('h', { clusterIP: 'None' })))).toMatchObject({ clusterIP: 'None', clusterIPs: ['None'] })
  })

  it('keeps the address on update, and refuses to change it', () => {
    const a = makeService('a')
    const s = stored(a, allocate(a))
    expect(ok(allocate(makeService('a'), [], config, s)).clusterIP).toBe(s.spec.clusterIP)
    expect(allocate(makeService('a', { clusterIP: '10.96.9.9' }), [], config, s)).toMatchObject({ kind: 'invalid', causes: [{ field: 'spec.clusterIPs[0]', message: expect.stringMatching(/may not change once set/) }] })
  })

  it('allocates one address per family for PreferDualStack on a dual-stack cluster', () => {
    expect(ok(allocate(makeService('d', { ipFamilyPolicy: 'PreferDualStack' }), [], dual))).toMatchObject({ clusterIPs: ['10.96.0.2', 'fd00:10:96::2'], ipFamilies: ['IPv4', 'IPv6'] })
    expect(ok(allocate(makeService('d', { ipFamilyPolicy: 'PreferDualStack' })))).toMatchObject({ clusterIPs: ['10.96.0.2'], ipFamilies: ['IPv4'] })
    expect(allocate(makeService('d', { ipFamilyPolicy: 'RequireDualStack' }))).toMatchObject({ kind: 'invalid', causes: [{ field: 'spec.ipFamilyPolicy' }] })
    expect(ok(allocate(makeService('v6', { ipFamilies: ['IPv6'] }), [], dual))).toMatchObject({ clusterIPs: ['fd00:10:96::2'], ipFamilies: ['IPv6'] })
  })

  it('reports a full range as an internal error, as upstream does', () => {
    const tiny = { ...config, serviceRanges: [serviceRangeOfCidr('10.96.0.0/30')!] }
    const first = makeService('a')
    const r = allocate(makeService('b'), [stored(first, allocate(first, [], tiny))], tiny)
    expect(r).toEqual({ kind: 'full', message: 'failed to allocate a serviceIP: range is full (10.96.0.0/30)' })
  })

  it('never hands out an address twice, whatever the mix of requested and dynamic addresses (property)', () => {
    const small = { ...config, serviceRanges: [serviceRangeOfCidr('10.96.0.0/26')!] }
    fc.assert(fc.property(fc.array(fc.option(fc.integer({ min: 0, max: 70 }), { nil: undefined }), { maxLength: 80 }), (requests) => {
      const held: Service[] = []
      for (const [i, offset] of requests.entries()) {
        const svc = makeService(`s${i}`, offset === undefined ? {} : { clusterIP: `10.96.0.${offset}` })
        const r = allocate(svc, held, small)
        if (r.kind === 'ok') held.push(stored(svc, r))
      }
      const ips = held.map((s) => s.spec.clusterIP ?? '')
      expect(new Set(ips).size).toBe(ips.length)
      expect(ips.every((ip) => rangeContains(small.serviceRanges[0]!, ip))).toBe(true)
    }))
  })
})

describe('NodePort allocation', () => {
  it('allocates the lowest free port for each port of a NodePort Service', () => {
    const spec = ok(allocate(makeService('np', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 443 }] })))
    expect(spec.ports?.map((p) => p.nodePort)).toEqual([30000, 30001])
  })

  it('rejects a taken port with the kube-apiserver message and field path', () => {
    const a = makeService('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })
    const r = allocate(makeService('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), [stored(a, allocate(a))])
    expect(r).toEqual({ kind: 'invalid', causes: [{ reason: 'FieldValueInvalid', field: 'spec.ports[0].nodePort', message: 'Invalid value: 30080: provided port is already allocated' }] })
  })

  it('rejects a port outside the range', () => {
    expect(allocate(makeService('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }))).toMatchObject({
      causes: [{ field: 'spec.ports[0].nodePort', message: 'Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767' }],
    })
  })

  it('lets one port number serve two protocols of the same Service, but not twice the same protocol', () => {
    const both = makeService('dns', { type: 'NodePort', ports: [{ name: 'u', port: 53, protocol: 'UDP', nodePort: 30053 }, { name: 't', port: 53, protocol: 'TCP', nodePort: 30053 }] })
    expect(allocate(both).kind).toBe('ok')
    const twice = makeService('x', { type: 'NodePort', ports: [{ name: 'a', port: 1, nodePort: 30053 }, { name: 'b', port: 2, nodePort: 30053 }] })
    expect(allocate(twice)).toMatchObject({ causes: [{ reason: 'FieldValueDuplicate', field: 'spec.ports[1].nodePort' }] })
  })

  it('keeps node ports on an update that omits them, and drops them when the type becomes ClusterIP', () => {
    const a = makeService('a', { type: 'NodePort' })
    const s = stored(a, allocate(a))
    expect(ok(allocate(makeService('a', { type: 'NodePort' }), [], config, s)).ports?.[0]?.nodePort).toBe(30000)
    const back = makeService('a', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, nodePort: 30000 }] })
    expect(ok(allocate(back, [], config, s)).ports?.[0]?.nodePort).toBeUndefined()
  })

  it('allocates a health-check node port for LoadBalancer with Local policy only', () => {
    const local = ok(allocate(makeService('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' })))
    expect(local.healthCheckNodePort).toBe(30001)
    expect(ok(allocate(makeService('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' }))).healthCheckNodePort).toBeUndefined()
    expect(allocate(makeService('c', { healthCheckNodePort: 30500 }))).toMatchObject({ causes: [{ field: 'spec.healthCheckNodePort' }] })
  })

  it('skips node ports when allocateLoadBalancerNodePorts is false', () => {
    expect(ok(allocate(makeService('lb', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false }))).ports?.[0]?.nodePort).toBeUndefined()
  })

  it('never hands out a node port twice (property)', () => {
    const narrow = { ...config, nodePortRange: { base: 30000, size: 40 } }
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.option(fc.integer({ min: 29990, max: 30045 }), { nil: undefined })), { maxLength: 40 }), (reqs) => {
      const held: Service[] = []
      for (const [i, [n, requested]] of reqs.entries()) {
        const ports = Array.from({ length: n }, (_, j) => ({ name: `p${j}`, port: 80 + j, ...(j === 0 && requested ? { nodePort: requested } : {}) }))
        const svc = makeService(`s${i}`, { type: 'NodePort', ports })
        const r = allocate(svc, held, narrow)
        if (r.kind === 'ok') held.push(stored(svc, r))
      }
      const all = held.flatMap((s) => (s.spec.ports ?? []).map((p) => p.nodePort ?? 0))
      expect(new Set(all).size).toBe(all.length)
      expect(all.every((p) => p >= 30000 && p < 30040)).toBe(true)
    }))
  })
})

describe('LoadBalancer pool', () => {
  it('assigns pool addresses in order and leaves the Service pending when the pool is empty', () => {
    const held: Service[] = []
    const got: unknown[] = []
    for (const name of ['a', 'b', 'c', 'd']) {
      const svc = makeService(name, { type: 'LoadBalancer' })
      const r = allocate(svc, held)
      got.push(ok(r).ingress)
      held.push(stored(svc, r))
    }
    expect(got).toEqual([[{ ip: '192.168.77.200', ipMode: 'VIP' }], [{ ip: '192.168.77.201', ipMode: 'VIP' }], [{ ip: '192.168.77.202', ipMode: 'VIP' }], []])
  })

  it('honours spec.loadBalancerIP inside the pool and rejects one outside', () => {
    expect(ok(allocate(makeService('a', { type: 'LoadBalancer', loadBalancerIP: '192.168.77.202' }))).ingress).toEqual([{ ip: '192.168.77.202', ipMode: 'VIP' }])
    expect(allocate(makeService('a', { type: 'LoadBalancer', loadBalancerIP: '10.1.1.1' }))).toMatchObject({ causes: [{ field: 'spec.loadBalancerIP' }] })
  })

  it('leaves Services with a loadBalancerClass to their own controller', () => {
    expect(ok(allocate(makeService('a', { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' }))).ingress).toBeUndefined()
  })
})
