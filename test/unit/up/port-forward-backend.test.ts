/**
 * kubectl port-forward's way into a pod under `kpe up`: only the loopback address the pod
 * network table gives for (pod IP, port), with 127.0.0.1 recorded as the source the pod sees;
 * a missing entry, or one that belongs to another pod, is refused without dialling.
 */
import { createServer, type AddressInfo, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { PodNetworkTable, SeenSourceTable } from '../../../src/kubelet/index.js'
import { ConnectionLog } from '../../../src/proxy/userspace/index.js'
import { PodNetworkPortForward } from '../../../src/up/port-forward-backend.js'
import { EphemeralPorts } from '../../../src/up/ephemeral-ports.js'

let pod: Server | undefined
afterEach(async () => {
  await new Promise((resolve) => (pod ? pod.close(resolve) : resolve(undefined)))
  pod = undefined
})

const web = { namespace: 'default', name: 'web', uid: 'u1', podIP: '10.244.0.4' }

async function setup(): Promise<{ backend: PodNetworkPortForward; network: PodNetworkTable; seen: SeenSourceTable; log: ConnectionLog; seenByPod: string[] }> {
  const network = new PodNetworkTable()
  const seen = new SeenSourceTable()
  const log = new ConnectionLog()
  const seenByPod: string[] = []
  pod = createServer((s) => {
    const who = seen.lookup(s.remoteAddress, s.remotePort)
    seenByPod.push(`${who.address}:${who.port}`)
    s.end('hi')
  })
  const port = await new Promise<number>((resolve) => pod!.listen(0, '127.0.0.1', () => resolve((pod!.address() as AddressInfo).port)))
  network.set('10.244.0.4', 8080, 'tcp', { local: { address: '127.0.0.1', port }, pod: 'default/web', node: 'node-a' })
  const backend = new PodNetworkPortForward(new EphemeralPorts())
  backend.attach({ network, seen, log, connectTimeoutMs: 1000 })
  return { backend, network, seen, log, seenByPod }
}

describe('PodNetworkPortForward', () => {
  it('dials the loopback address the table gives; the pod sees 127.0.0.1; the attempt is logged', async () => {
    const { backend, log, seenByPod } = await setup()
    const s = await backend.dial(web, 8080)
    const reply = await new Promise<string>((resolve) => { let t = ''; s.setEncoding('utf8'); s.on('data', (d: string) => { t += d }); s.on('end', () => resolve(t)) })
    s.destroy()
    expect(reply).toBe('hi')
    expect(seenByPod).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)])
    expect(log.recent()).toEqual([expect.objectContaining({ entry: 'kubectl port-forward', verdict: 'forward', node: 'node-a', pod: 'default/web', endpoint: '10.244.0.4:8080' })])
  })

  it('refuses a port not in the table, and a pod IP the table gives to another pod', async () => {
    const { backend, network, log } = await setup()
    await expect(backend.dial(web, 9999)).rejects.toThrow('failed to connect to localhost:9999 inside the pod: nothing listens on 10.244.0.4:9999 (not in the pod network table)')
    network.set('10.244.0.4', 8080, 'tcp', { local: { address: '127.0.0.1', port: 1 }, pod: 'default/newer', node: 'node-a' })
    await expect(backend.dial(web, 8080)).rejects.toThrow(/not in the pod network table/)
    expect(log.recent().map((r) => r.verdict)).toEqual(['unreachable', 'unreachable'])
  })

  it('before the node agents are attached, says so', async () => {
    await expect(new PodNetworkPortForward(new EphemeralPorts()).dial(web, 8080)).rejects.toThrow('the node agents are not running yet')
  })
})
