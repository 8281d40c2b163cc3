/** ClusterDns over list+watch sources: the zone follows the objects, and the pod toolbox's lookup contract. */
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Pod, Service } from '../../../src/api/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { ClusterDns } from '../../../src/dns/index.js'
import { realTimers } from '../../../src/runtime/index.js'

/** The zone is rebuilt after a change (at once while cheap): wait until `ok`, at most 2 s. */
async function until(ok: () => boolean | Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 2_000; !(await ok()) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 5))
}

const svc = (name: string, ip: string): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec: { clusterIP: ip, ports: [{ port: 80 }] } }) as Service

describe('ClusterDns', () => {
  it('follows Services as they come and go, and answers lookup() with [] for NXDOMAIN', async () => {
    const services = new MemoryObjectSource<Service>()
    const dns = new ClusterDns({ services, endpointSlices: new MemoryObjectSource<EndpointSlice>(), pods: new MemoryObjectSource<Pod>(), clusterDomain: 'cluster.local', timers: realTimers })
    await dns.start()
    try {
      expect(await dns.lookup('web.default.svc.cluster.local')).toEqual([])
      services.upsert(svc('web', '10.96.0.7'))
      await until(async () => (await dns.lookup('web.default.svc.cluster.local')).length > 0)
      expect(await dns.lookup('web.default.svc.cluster.local')).toEqual(['10.96.0.7'])
      expect(dns.answer({ name: 'web.default.svc.cluster.local', type: 'A' }).rcode).toBe('NOERROR')
      expect(dns.lookupHost('web', { search: ['default.svc.cluster.local'], ndots: 5 })?.name).toBe('web.default.svc.cluster.local')
      services.delete('default/web')
      await until(() => dns.answer({ name: 'web.default.svc.cluster.local', type: 'A' }).rcode !== 'NOERROR')
      expect(dns.answer({ name: 'web.default.svc.cluster.local', type: 'A' }).rcode).toBe('NXDOMAIN')
    } finally {
      dns.stop()
    }
  })
})
