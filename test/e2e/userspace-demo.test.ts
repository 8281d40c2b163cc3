/**
 * The demo cluster carrying real traffic on loopback: kubelets run the pods as local servers,
 * each node's proxier loads its rules into an interpreter, and the entry points (NodePorts on
 * per-node loopback addresses, SOCKS5, HTTP proxy) forward where the rules say. Every socket
 * here, including curl's, connects to a loopback address only.
 */
import { execFile } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { request } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveEndpointSlices, type EndpointSlice, type Node, type Pod, type Service } from '../../src/api/index.js'
import { MemoryObjectSource } from '../../src/client/index.js'
import { objectKey } from '../../src/api/index.js'
import { realTimers } from '../../src/runtime/index.js'
import { encodeUdpDatagram, parseUdpDatagram } from '../../src/proxy/userspace/index.js'
import { startNodeAgents, type NodeAgents } from '../../src/node/index.js'
import { loadFixture } from '../helpers/fixtures.js'
import { seededRandom } from '../helpers/seeded-random.js'

const webPods = ['web-7bd5b7c9b7-bm7nv', 'web-7bd5b7c9b7-sq2w8', 'web-7bd5b7c9b7-bgqc4']
// A loopback /24 of our own, so parallel runs do not fight over NodePort 30080.
const prefix = `127.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}.`
const nodeAddr = (i: number): string => `${prefix}${i}`

let agents: NodeAgents
let socksPort = 0
let httpPort = 0
let pods = new MemoryObjectSource<Pod>()
let services = new MemoryObjectSource<Service>()
let slices = new MemoryObjectSource<EndpointSlice>()
let nodes: Node[] = []

/** The EndpointSlice controller's job, done in-process whenever a pod status changes. */
function syncSlices(): void {
  const want = deriveEndpointSlices({ services: services.items(), pods: pods.items(), nodes })
  const names = new Set(want.map((s) => objectKey(s)))
  for (const s of slices.items()) if (!names.has(objectKey(s))) slices.delete(objectKey(s))
  for (const s of want) {
    const old = slices.get(objectKey(s))
    if (!old || JSON.stringify({ ...old, metadata: { ...old.metadata, resourceVersion: undefined } }) !== JSON.stringify({ ...s, metadata: { ...s.metadata, resourceVersion: undefined } })) slices.upsert(s)
  }
}

function httpGet(host: string, port: number, path: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })))
    req.on('error', reject)
    req.end()
  })
}

let curlAvailable = true
function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A bare environment: no *_proxy variable may send curl anywhere but where we say.
    execFile('curl', ['-sS', '--max-time', '5', ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } }, (err, stdout, stderr) => {
      if (err && (err as { code?: unknown }).code === 'ENOENT') curlAvailable = false
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

/** One cluster per mode: the same pods and Services, the KubeProxyConfiguration's mode switched. */
async function startDemo(mode: 'iptables' | 'nftables'): Promise<void> {
  pods = new MemoryObjectSource<Pod>()
  services = new MemoryObjectSource<Service>()
  slices = new MemoryObjectSource<EndpointSlice>()
  const set = loadFixture('demo')
  nodes = set.nodes.map((l) => l.object)
  for (const s of set.services) services.upsert(s.object)
  // Pods arrive as the scheduler leaves them: bound to a node, their old IP only a hint.
  for (const l of set.pods) pods.upsert({ ...l.object, status: { podIP: l.object.status?.podIP } })
  agents = await startNodeAgents({
    nodes,
    kubeProxyConfiguration: { ...set.kubeProxyConfigurations[0]!.object, mode },
    pods, services, endpointSlices: slices,
    status: {
      async writeStatus(pod, status) {
        const cur = pods.get(objectKey(pod))
        if (!cur) return
        pods.upsert({ ...cur, status })
        syncSlices()
      },
      async finalizeDeletion(pod) {
        pods.delete(objectKey(pod))
        syncSlices()
      },
    },
    timers: realTimers,
    clock: { now: () => Date.now() },
    random: seededRandom(7),
    nodeLoopbackPrefix: prefix,
    socksPort: 0,
    httpProxyPort: 0,
    minSyncPeriodMs: 10,
    limits: { dropHoldMs: 3000 },
    log: process.env["KPE_DEBUG"] ? (l) => console.error(l) : undefined,
  })
  await Promise.all([...agents.kubelets.values()].map((k) => k.idle()))
  await Promise.all([...agents.proxiers.values()].map((p) => p.settled()))
  await agents.proxy.refresh()
  socksPort = agents.proxy.ports.socks!
  httpPort = agents.proxy.ports.http!
  // The mode really is the one asked for: in nftables mode every node's dataplane has an nft executor.
  expect(agents.nftExecutors.size).toBe(mode === 'nftables' ? nodes.length : 0)
}

// The same traffic tests in both modes, one cluster per mode (issue 15: kpe up with mode: nftables).
describe.each(['iptables', 'nftables'] as const)('demo cluster in userspace (%s mode)', (mode) => {
  beforeAll(() => startDemo(mode), 60_000)
  afterAll(async () => {
    await agents?.stop()
  })

  it('kubelets run every pod and report it ready with its IP', () => {
    const web = pods.items().filter((p) => p.metadata.labels?.['app'] === 'web')
    expect(web.map((p) => p.status?.podIP).sort()).toEqual(['10.244.0.2', '10.244.1.2', '10.244.2.2'])
    expect(web.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).toBe(true)
    expect(agents.network.lookup('10.244.0.2', 8080, 'tcp')?.local.address).toBe('127.0.0.1')
    expect(agents.proxy.nodePortListeners()).toContain(`${nodeAddr(2)}:30080/tcp`)
  })

  it('a NodePort spreads requests over all ready pods', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 30; i++) seen.add((await httpGet(nodeAddr(1), 30080, '/hostname')).body)
    expect([...seen].sort()).toEqual([...webPods].sort())
  })

  it('kpe connections links each connection to the rule path of the mode that carried it', async () => {
    await httpGet(nodeAddr(1), 30080, '/hostname')
    const r = agents.proxy.log.recent().filter((c) => c.destination.includes('30080') && c.verdict === 'forward').pop()!
    expect(r.path).toEqual(expect.arrayContaining(mode === 'nftables'
      ? ['ip kube-proxy/services#2', expect.stringMatching(/^ip kube-proxy\/endpoint-[A-Z0-9]{8}-default\/web\/tcp\/http__/)]
      : [expect.stringMatching(/^nat\/KUBE-NODEPORTS#/)]))
  })

  it('the pod sees the masquerade address for NodePort traffic with Cluster policy', async () => {
    for (let i = 0; i < 6; i++) {
      const { body } = await httpGet(nodeAddr(1), 30080, '/clientip')
      // toward a pod on node-a: the pod CIDR's gateway; toward another node: node-a's InternalIP
      expect(body).toMatch(/^(10\.244\.0\.1|192\.168\.77\.10):\d+$/)
    }
  })

  it('externalTrafficPolicy Local serves only local pods, and the node without one drops', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await httpGet(nodeAddr(1), 30081, '/')).body).toBe('hello from echo-798b8fd6b4-wpfcc\n')
      expect((await httpGet(nodeAddr(2), 30081, '/')).body).toBe('hello from echo-798b8fd6b4-pmzck\n')
    }
    const started = Date.now()
    await expect(httpGet(nodeAddr(3), 30081, '/', 400)).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(350)
  })

  it('a service without endpoints refuses at once', async () => {
    const started = Date.now()
    await expect(httpGet(nodeAddr(1), 30082, '/', 3000)).rejects.toMatchObject({ code: 'ECONNRESET' })
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('SOCKS5 with socks5h and a service DNS name works (curl)', async () => {
    const r = await curl(['--socks5-hostname', `127.0.0.1:${socksPort}`, 'http://web.default.svc.cluster.local/hostname'])
    if (!curlAvailable) return
    expect(r.code).toBe(0)
    expect(webPods).toContain(r.stdout)
  })

  it('the HTTP proxy works (curl)', async () => {
    const r = await curl(['-x', `http://127.0.0.1:${httpPort}`, 'http://10.96.0.100/hostname'])
    if (!curlAvailable) return
    expect(r.code).toBe(0)
    expect(webPods).toContain(r.stdout)
  })

  it('ClientIP affinity pins a client', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 8; i++) {
      const r = await curl(['-x', `http://pod.default.client:x@127.0.0.1:${httpPort}`, 'http://sticky.default.svc.cluster.local/hostname'])
      if (!curlAvailable) return
      seen.add(r.stdout)
    }
    expect(seen.size).toBe(1)
    expect(webPods).toContain([...seen][0])
  })

  it('a pod client is not masqueraded toward a ClusterIP: the pod sees the client pod IP', async () => {
    const r = await curl(['-x', `http://pod.default.client:x@127.0.0.1:${httpPort}`, 'http://10.96.0.100/clientip'])
    if (!curlAvailable) return
    expect(r.stdout).toMatch(/^10\.244\.0\.10:\d+$/)
  })

  it('SOCKS5 refuses a service without endpoints with "connection refused" (curl)', async () => {
    const r = await curl(['--socks5-hostname', `127.0.0.1:${socksPort}`, 'http://empty.default.svc.cluster.local/'])
    if (!curlAvailable) return
    expect(r.code).toBe(97)
    // SOCKS5 reply 5: connection refused (curl 7.x prints the code, 8.x the words)
    expect(r.stderr).toMatch(/\(5\)|refused/i)
  })

  it('a UDP service answers through SOCKS5 UDP ASSOCIATE', async () => {
    const reply = await socksUdp('10.96.0.105', 8081, 'hostname')
    expect(webPods).toContain(reply)
  })

  it('entry points refuse 127.0.0.1:22 and public names, without dialling them', async () => {
    const before = agents.proxy.log.recent().length
    expect(await socksConnectReply('127.0.0.1', 22)).toBe(0x02)
    expect(await socksConnectReply('example.com', 80)).toBe(0x02)
    const r1 = await curl(['-x', `http://127.0.0.1:${httpPort}`, 'http://127.0.0.1:22/'])
    const r2 = await curl(['-x', `http://127.0.0.1:${httpPort}`, '-w', '%{http_code}', '-o', '/dev/null', 'http://example.com/'])
    if (curlAvailable) {
      expect(r1.stdout).toMatch(/refused 127\.0\.0\.1:22: 127\.0\.0\.1 is a loopback address/)
      expect(r2.stdout).toBe('403')
    }
    const refused = agents.proxy.log.recent().slice(before).filter((r) => r.verdict === 'refused')
    expect(refused.length).toBeGreaterThanOrEqual(2)
  })
})

/** The reply code of a SOCKS5 CONNECT (no auth) to host:port; the proxy itself is on loopback. */
function socksConnectReply(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: socksPort })
    let buf = Buffer.alloc(0)
    let stage = 0
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c])
      if (stage === 0 && buf.length >= 2) {
        stage = 1
        buf = buf.subarray(2)
        const name = Buffer.from(host)
        const p = Buffer.alloc(2)
        p.writeUInt16BE(port)
        s.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, p]))
      } else if (stage === 1 && buf.length >= 2) {
        resolve(buf[1]!)
        s.destroy()
      }
    })
    s.on('error', reject)
    s.write(Buffer.from([5, 1, 0]))
  })
}

/** One datagram through SOCKS5 UDP ASSOCIATE; resolves with the reply's payload. */
function socksUdp(host: string, port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: socksPort })
    const u = createSocket('udp4')
    const timer = setTimeout(() => reject(new Error('no UDP reply')), 3000)
    let buf = Buffer.alloc(0)
    let stage = 0
    s.on('error', reject)
    u.on('message', (msg) => {
      clearTimeout(timer)
      const dg = parseUdpDatagram(msg)
      resolve(dg.kind === 'ok' ? dg.data.toString('utf8') : '')
      u.close()
      s.destroy()
    })
    u.bind(0, '127.0.0.1', () => {
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c])
        if (stage === 0 && buf.length >= 2) {
          stage = 1
          buf = buf.subarray(2)
          s.write(Buffer.from([5, 3, 0, 1, 0, 0, 0, 0, 0, 0]))
        } else if (stage === 1 && buf.length >= 10) {
          stage = 2
          const relayPort = buf.readUInt16BE(8)
          const relayHost = [...buf.subarray(4, 8)].join('.')
          if (!relayHost.startsWith('127.')) return reject(new Error(`relay ${relayHost} is not loopback`))
          u.send(encodeUdpDatagram(host, port, Buffer.from(payload)), relayPort, relayHost)
        }
      })
      s.write(Buffer.from([5, 1, 0]))
    })
  })
}
