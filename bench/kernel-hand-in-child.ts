/**
 * The hand-in hop as its own process, for the kernel benchmarks: loopback listeners whose every
 * connection is handed into a rootless lab through the external host's agent (src/netns), with
 * the connection log and its conntrack follower running as in `kpe up --dataplane kernel`.
 *
 *   node kernel-hand-in-child.js '{"topology":{...},"routes":[{"listen":PORT,"node":"node-a","host":"192.168.77.10","port":30080}]}'
 *
 * Prints {"ready":true} when every listener is up; SIGTERM stops the agent and the follower.
 */
import { createServer } from 'node:net'
import { startKernelHandIn, type HandInTopology } from '../src/netns/index.js'
import { ConnectionLog, pipeBoth } from '../src/proxy/userspace/index.js'

interface Spec {
  readonly topology: { rootless: boolean; outsideHolder: number; nodeHolders: [string, number][]; sources: [string, string][] }
  readonly routes: { listen: number; node: string; host: string; port: number }[]
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec
const topology: HandInTopology = { ...spec.topology, nodeHolders: new Map(spec.topology.nodeHolders), sources: new Map(spec.topology.sources) }
const log = new ConnectionLog()
const hop = await startKernelHandIn(topology, { log, clock: Date, connectTimeoutMs: 5000, logger: (l) => process.stderr.write(`${l}\n`) })
await Promise.all(spec.routes.map((r) => new Promise<void>((resolve, reject) => {
  const server = createServer({ pauseOnConnect: true }, (client) => {
    client.on('error', () => {})
    void hop.open({ entry: `bench 127.0.0.1:${r.listen}`, client: `${client.remoteAddress}:${client.remotePort}`, node: r.node, host: r.host, port: r.port }).then((h) => {
      if (h.kind === 'connected') pipeBoth(client, h.socket, 120_000)
      else client.resetAndDestroy()
    })
  })
  server.once('error', reject)
  server.listen(r.listen, '127.0.0.1', () => resolve())
})))
process.stdout.write(JSON.stringify({ ready: true }) + '\n')
process.once('SIGTERM', () => void hop.stop().finally(() => process.exit(0)))
