/**
 * Issue 10 item 2: a client that asks for an upgrade, reads the refusal (or the switch) and then
 * resets the connection (SO_LINGER 0, as the Python client's exec does) must not kill the
 * process. Every upgrade path of the API server is tried; an unhandled socket 'error' would
 * surface as an uncaughtException, which the test records and asserts never happened.
 */
import { connect, type AddressInfo } from 'node:net'
import { createServer, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiServer, createServingCertificates, type PortForwardBackend, type ServiceProxyBackend } from '../../../src/apiserver/index.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'
import { upgradeThenReset } from '../../helpers/upgrade-then-reset.js'
import { recordUncaught } from '../../helpers/uncaught.js'

const uncaught = recordUncaught()

let server: ApiServer | undefined
let store: VersionedStore | undefined
let upstream: Server | undefined
const upgraded = new Set<Duplex>()
afterEach(async () => {
  await server?.close()
  await store?.close()
  upstream?.closeAllConnections()
  for (const s of upgraded) s.destroy()
  await new Promise((resolve) => (upstream ? upstream.close(resolve) : resolve(undefined)))
  server = store = upstream = undefined
})

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100))

describe('upgrade requests reset by the client', () => {
  it('leave the API server alive on every upgrade path (404, bad request, watch, service proxy, port-forward)', async () => {
    upstream = createServer((_req, res) => res.end('x'))
    upstream.on('upgrade', (_req, socket: Duplex) => { upgraded.add(socket); socket.on('error', () => {}); socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n') })
    await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', () => resolve()))
    const upPort = (upstream.address() as AddressInfo).port
    const serviceProxy: ServiceProxyBackend = { connect: () => new Promise((resolve, reject) => { const s = connect(upPort, '127.0.0.1', () => resolve(s)); s.once('error', reject) }) }
    const portForward: PortForwardBackend = { dial: () => Promise.reject(new Error('no')) } as unknown as PortForwardBackend
    store = await openMemoryStore()
    await store.create('pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
      spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] }, status: { phase: 'Running', podIP: '10.244.0.7' },
    } as never)
    server = await ApiServer.start({ store, port: 0, serviceProxy, portForward })
    const paths: [string, Record<string, string>, RegExp][] = [
      ['/nope', {}, / 404 /],
      // exec is served now (remote-command/): an unknown pod is the 404, a bad query 400, no backend 503.
      ['/api/v1/namespaces/default/pods/nope/exec?command=ls', {}, / 404 /],
      ['/api/v1/namespaces/default/pods/p/exec?command=ls', {}, / 400 /],
      ['/api/v1/namespaces/default/pods/p/exec?command=ls&stdout=1', { 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io' }, / 503 /],
      ['/api/v1/namespaces/default/services/nope/proxy/', {}, / 404 /],
      ['/api/v1/namespaces/default/pods?watch=true', {}, / 101 /],
      ['/api/v1/namespaces/default/pods?watch=true&resourceVersion=x', {}, / 400 /],
      ['/api/v1/namespaces/default/pods/p:8080/proxy/ws', {}, / 101 /],
      ['/api/v1/namespaces/default/pods/p/portforward', { 'Sec-WebSocket-Protocol': 'SPDY/3.1+portforward.k8s.io' }, / 101 /],
      ['/api/v1/namespaces/default/pods/p/portforward', {}, / 400 /],
    ]
    for (const [path, headers, status] of paths) {
      for (let i = 0; i < 5; i++) expect(await upgradeThenReset(server.port, path, headers)).toMatch(status)
    }
    await settle()
    expect(uncaught).toEqual([])
    expect((await fetch(`${server.url}/version`)).status).toBe(200)
  })

  it('leave an HTTPS API server alive too', async () => {
    uncaught.length = 0
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0, tls: await createServingCertificates(new Date()) })
    for (let i = 0; i < 5; i++) {
      expect(await upgradeThenReset(server.port, '/nope', {}, { tls: true })).toMatch(/ 404 /)
      expect(await upgradeThenReset(server.port, '/api/v1/namespaces/default/pods?watch=true', {}, { tls: true })).toMatch(/ 101 /)
    }
    await settle()
    expect(uncaught).toEqual([])
  })
})
