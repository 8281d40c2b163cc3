/**
 * `kpe port-forward`'s upgrade dials a pod the same way kubectl port-forward does: only a pod
 * network table entry that belongs to the requested pod (a reused pod IP is someone else), and
 * with a source port from the shared ephemeral range, never the client's own port.
 */
import type { IncomingMessage } from 'node:http'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import type { Pod } from '../../../src/api/index.js'
import { PodNetworkTable, SeenSourceTable } from '../../../src/kubelet/index.js'
import { ConnectionLog } from '../../../src/proxy/userspace/index.js'
import { forwardUpgradeProtocol, handleForwardUpgrade } from '../../../src/up/forward-upgrade.js'
import { EphemeralPorts } from '../../../src/up/ephemeral-ports.js'
import { PodNetworkPortForward } from '../../../src/up/port-forward-backend.js'

let server: Server | undefined
const open = new Set<import('node:net').Socket>()
afterEach(async () => {
  for (const s of open) s.destroy()
  open.clear()
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  server = undefined
})

const web: Pod = {
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: '10.244.0.4' },
} as Pod

/** A listening "pod" recording the source each connection claims to come from. */
async function listeningPod(seen: SeenSourceTable, sources: string[]): Promise<number> {
  server = createServer((s) => {
    open.add(s)
    // The dialer records the source on its own connect event, which may come after this one.
    setTimeout(() => {
      const who = seen.lookup(s.remoteAddress, s.remotePort)
      sources.push(`${who.address}:${who.port}`)
      s.end('hi')
    }, 20)
  })
  return new Promise<number>((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port)))
}

async function forward(owner: string): Promise<{ reply: string; sources: string[]; log: ConnectionLog }> {
  const network = new PodNetworkTable()
  const seen = new SeenSourceTable()
  const log = new ConnectionLog()
  const sources: string[] = []
  const port = await listeningPod(seen, sources)
  network.set('10.244.0.4', 8080, 'tcp', { local: { address: '127.0.0.1', port }, pod: owner, node: 'node-a' })
  const dialer = new PodNetworkPortForward(new EphemeralPorts())
  const access = { network, seen, log, connectTimeoutMs: 1000 }
  dialer.attach(access)
  const req = { url: '/forward?kind=pod&ns=default&name=web&port=8080', headers: { upgrade: forwardUpgradeProtocol, 'x-kpe-client': '127.0.0.1:5' } } as unknown as IncomingMessage
  const socket = new PassThrough()
  let reply = ''
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => { reply += d })
  await handleForwardUpgrade(req, socket, Buffer.alloc(0), { dialer, log, idleTimeoutMs: 1000 }, { service: () => undefined, pods: () => [web] })
  await new Promise((resolve) => setTimeout(resolve, 100))
  socket.destroy()
  return { reply, sources, log }
}

describe('kpe port-forward upgrade', () => {
  it('refuses a pod IP the pod network table gives to another pod, without dialling it', async () => {
    const { reply, sources, log } = await forward('default/newer')
    expect(reply).toMatch(/^HTTP\/1\.1 502 /)
    expect(sources).toEqual([])
    expect(log.recent()).toEqual([expect.objectContaining({ entry: 'port-forward', verdict: 'unreachable' })])
  })

  it('dials the requested pod from an ephemeral source port, not the client\'s own port', async () => {
    const { reply, sources, log } = await forward('default/web')
    expect(reply).toMatch(/^HTTP\/1\.1 101 /)
    expect(sources).toHaveLength(1)
    const sourcePort = Number(sources[0]!.split(':')[1])
    expect(sources[0]).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(sourcePort).toBeGreaterThanOrEqual(32768)
    expect(sourcePort).toBeLessThanOrEqual(60999)
    expect(log.recent()).toEqual([expect.objectContaining({ entry: 'port-forward', verdict: 'forward', pod: 'default/web', seen: `127.0.0.1:${sourcePort}` })])
  })
})
