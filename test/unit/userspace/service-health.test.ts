/**
 * The service health server: which Services get a health check node port, how many local ready
 * endpoints each node reports, upstream's answer (200/503 with the JSON body), and the listeners
 * following the Services on a real loopback socket.
 */
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { buildProxyState, healthCheckResponse, serviceHealthChecks, type ServiceHealthCheck } from '../../../src/proxy/model/index.js'
import { clusterObjects } from '../../../src/proxy/model/index.js'
import { ServiceHealthServer } from '../../../src/proxy/healthcheck/service-health-server.js'
import { loadFixture } from '../../helpers/fixtures.js'

const objects = clusterObjects(loadFixture('external-traffic-policy-local'))
const checksOn = (node: string) => serviceHealthChecks(buildProxyState(objects.services, objects.endpointSlices, 'IPv4', node))

describe('serviceHealthChecks', () => {
  it('only the LoadBalancer with Local policy, with each node its own ready endpoints', () => {
    expect(checksOn('node-a')).toEqual([{ namespace: 'default', name: 'web-lb', healthCheckNodePort: 32000, localEndpoints: 2 }])
    expect(checksOn('node-b')).toEqual([{ namespace: 'default', name: 'web-lb', healthCheckNodePort: 32000, localEndpoints: 1 }])
    expect(checksOn('node-c')).toEqual([{ namespace: 'default', name: 'web-lb', healthCheckNodePort: 32000, localEndpoints: 0 }])
  })

  it('does not count endpoints that are not ready', () => {
    const slices = objects.endpointSlices.map((s) => ({ ...s, endpoints: s.endpoints.map((e) => (e.nodeName === 'node-b' ? { ...e, conditions: { ...e.conditions, ready: false } } : e)) }))
    expect(serviceHealthChecks(buildProxyState(objects.services, slices, 'IPv4', 'node-b'))[0]?.localEndpoints).toBe(0)
  })
})

describe('healthCheckResponse', () => {
  const check: ServiceHealthCheck = { namespace: 'default', name: 'web-lb', healthCheckNodePort: 32000, localEndpoints: 2 }
  it('answers 200 with upstream tab-indented JSON when there are local endpoints', () => {
    expect(healthCheckResponse(check, true)).toEqual({
      status: 200,
      body: '{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "web-lb"\n\t},\n\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}',
    })
  })
  it('answers 503 without local endpoints or with an unhealthy proxy', () => {
    expect(healthCheckResponse({ ...check, localEndpoints: 0 }, true).status).toBe(503)
    expect(healthCheckResponse(check, false).status).toBe(503)
  })
})

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as { port: number }
  await new Promise((r) => s.close(r))
  return port
}

describe('ServiceHealthServer', () => {
  it('opens, answers and closes listeners as the checks change', async () => {
    const port = await freePort()
    const server = new ServiceHealthServer({ address: '127.0.0.1' })
    const url = `http://127.0.0.1:${port}/`
    try {
      await server.sync([{ namespace: 'default', name: 'web-lb', healthCheckNodePort: port, localEndpoints: 1 }], true)
      expect(server.ports()).toEqual([port])
      let res = await fetch(url)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/json')
      expect(res.headers.get('x-load-balancing-endpoint-weight')).toBe('1')
      expect(await res.json()).toEqual({ service: { namespace: 'default', name: 'web-lb' }, localEndpoints: 1, serviceProxyHealthy: true })

      await server.sync([{ namespace: 'default', name: 'web-lb', healthCheckNodePort: port, localEndpoints: 0 }], true)
      res = await fetch(url, { headers: { connection: 'close' } })
      expect(res.status).toBe(503)
      await res.text()

      await server.sync([], true)
      expect(server.ports()).toEqual([])
      await expect(fetch(url)).rejects.toThrow()
    } finally {
      await server.stop()
    }
  })

  it('ignores syncs after stop, so a late proxier sync cannot reopen a listener', async () => {
    const port = await freePort()
    const server = new ServiceHealthServer({ address: '127.0.0.1' })
    await server.sync([{ namespace: 'default', name: 'web-lb', healthCheckNodePort: port, localEndpoints: 1 }], true)
    const stopped = server.stop()
    const late = server.sync([{ namespace: 'default', name: 'web-lb', healthCheckNodePort: port, localEndpoints: 1 }], true)
    await Promise.all([stopped, late])
    expect(server.ports()).toEqual([])
  })

  it('logs a port it cannot bind and keeps serving the others', async () => {
    const taken = createServer()
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r))
    const busy = (taken.address() as { port: number }).port
    const free = await freePort()
    const lines: string[] = []
    const server = new ServiceHealthServer({ address: '127.0.0.1', log: (l) => lines.push(l) })
    try {
      await server.sync([
        { namespace: 'default', name: 'a', healthCheckNodePort: busy, localEndpoints: 1 },
        { namespace: 'default', name: 'b', healthCheckNodePort: free, localEndpoints: 1 },
      ], true)
      expect(server.ports()).toEqual([free])
      expect(lines.join('\n')).toMatch(new RegExp(`default/a on 127.0.0.1:${busy} failed to start: .*EADDRINUSE`))
    } finally {
      await server.stop()
      await new Promise((r) => taken.close(r))
    }
  })
})
