/**
 * HeldValuesIndex: after any sequence of creates, replacements and deletes of stored Services, its
 * answers equal a plain re-read of every stored Service but the one being written (property).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Service } from '../../../src/api/index.js'
import { addHeldValues, emptyHeldValues, HeldValuesIndex, type HeldValues } from '../../../src/controllers/taken-values.js'

const ips = ['10.96.0.10', '10.96.0.11', '10.96.0.12', 'fd00::a', 'fd00:0::a']
const ports = [30000, 30001, 30002]

const service = (name: string, ip: string, nodePort: number, hc: number, lb: string): Service => Object.freeze({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', clusterIP: ip, clusterIPs: [ip], ports: [{ port: 80, nodePort }], healthCheckNodePort: hc },
  status: { loadBalancer: { ingress: [{ ip: lb }] } },
}) as unknown as Service

/** The model: every stored Service read again, but the one named `except`. */
function reread(services: readonly Service[], except: string | undefined): HeldValues {
  const out = emptyHeldValues()
  for (const s of services) if (s.metadata.name !== except) addHeldValues(out, s)
  return out
}

describe('HeldValuesIndex', () => {
  it('answers as a re-read of every other stored Service, after any writes (property)', () => {
    const write = fc.record({
      name: fc.constantFrom('a', 'b', 'c', 'd'),
      del: fc.boolean(),
      ip: fc.constantFrom(...ips), nodePort: fc.constantFrom(...ports), hc: fc.constantFrom(...ports), lb: fc.constantFrom(...ips),
    })
    fc.assert(fc.property(fc.array(fc.tuple(write, fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'z'), { nil: undefined })), { maxLength: 40 }), fc.boolean(), (writes, copies) => {
      const index = new HeldValuesIndex()
      const stored = new Map<string, Service>()
      for (const [w, asking] of writes) {
        if (w.del) stored.delete(w.name)
        else stored.set(w.name, service(w.name, w.ip, w.nodePort, w.hc, w.lb))
        const list = [...stored.values()]
        // a store may hand out another copy from get than from list
        const mine = asking === undefined ? undefined : stored.get(asking)
        const lookup = index.lookup(list, mine && copies ? structuredClone(mine) : mine)
        const want = reread(list, mine ? asking : undefined)
        for (const ip of ips) {
          expect(lookup.clusterIP(ip)).toBe(want.clusterIPs.has(ip))
          expect(lookup.loadBalancerIP(ip)).toBe(want.loadBalancerIPs.has(ip))
        }
        for (const p of ports) expect(lookup.nodePort(p)).toBe(want.nodePorts.has(p))
      }
    }), { seed: 23, numRuns: 300 })
  })
})
