/**
 * The hand-in hop against real kube-proxy rules without root: a rootless `kpe lab up` of
 * fixtures/nodeport.yaml provides the nodes, pods and the external host; a loopback listener
 * hands each connection in through the hop, and real curls from the host reach the pods through
 * the kernel's NodePort and ClusterIP DNAT. Every connection log entry names the pod the kernel
 * chose (checked against what that pod says it saw), and refusals come back as the kernel's.
 */
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { missingLabPrerequisites, rootlessUnavailable, type LabState } from '../../src/lab/index.js'
import { handInSources, readNodeConntrack, startKernelHandIn, type HandInRequest, type HandInTopology, type KernelHandIn } from '../../src/netns/index.js'
import { ConnectionLog, pipeBoth, type ConnectionRecord } from '../../src/proxy/userspace/index.js'
import { requireUserNamespace } from '../helpers/root.js'
import { repoRoot } from '../helpers/shared.js'

const stateRoot = mkdtempSync(join(tmpdir(), 'kpe-handin-'))
const prefix = `h${process.pid % 100000}`.slice(0, 8)
const why = missingLabPrerequisites({ commands: ['iptables-nft', 'nsenter', 'unshare', 'curl'], rootless: true }) ?? rootlessUnavailable()

function run(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd: repoRoot, env: { ...process.env, KPE_LAB_STATE_DIR: stateRoot }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
    })
  })
}
const kpe = (args: readonly string[]): ReturnType<typeof run> => run([process.execPath, join(repoRoot, 'dist/src/cli/main.js'), ...args])

/** `kpe lab up --rootless` of a fixture, then the hop over its external host and nodes. */
async function upLabHop(fixture: string, name: string, log: ConnectionLog, wrapRead?: (read: (node: string) => Promise<string>) => (node: string) => Promise<string>): Promise<{ state: LabState; hop: KernelHandIn }> {
  const up = await kpe(['lab', 'up', '-f', fixture, '--name', name, '--rootless'])
  expect(up.code, up.stderr).toBe(0)
  const state = JSON.parse(readFileSync(join(stateRoot, name, 'state.json'), 'utf8')) as LabState
  const plan = state.plan!
  const holders = state.rootless!.holders
  const podByIP = new Map(plan.pods.map((p) => [p.address as string, p.key]))
  const topology: HandInTopology = { rootless: true, outsideHolder: holders[plan.external.netns]!, nodeHolders: new Map(plan.nodes.map((n) => [n.name, holders[n.netns]!])), sources: handInSources(plan) }
  const read = readNodeConntrack(topology)
  const hop = await startKernelHandIn(topology, { log, clock: { now: () => Date.now() }, podByIP: (ip) => podByIP.get(ip), connectTimeoutMs: 2000, readConntrack: wrapRead ? wrapRead(read) : read })
  return { state, hop }
}

async function downLabHop(name: string, hop: KernelHandIn | undefined): Promise<void> {
  await hop?.stop()
  const down = await kpe(['lab', 'down', '--name', name])
  expect(down.code, down.stderr).toBe(0)
}

if (requireUserNamespace('kernel-hand-in', why)) {
  afterAll(() => rmSync(stateRoot, { recursive: true, force: true }))

  describe('kernel hand-in hop (rootless lab)', () => {
    let state: LabState
    let hop: KernelHandIn
    const log = new ConnectionLog()
    const servers: Server[] = []
    let tableReads = 0

    /** A loopback entry point: every connection is handed in as `target` says. */
    async function entry(target: Omit<HandInRequest, 'entry' | 'client'>): Promise<number> {
      const server = createServer({ pauseOnConnect: true }, (client) => {
        void hop.open({ ...target, entry: 'test entry', client: `${client.remoteAddress}:${client.remotePort}` }).then((r) => {
          if (r.kind === 'connected') pipeBoth(client, r.socket, 30_000)
          else client.resetAndDestroy()
        })
      })
      servers.push(server)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return (server.address() as AddressInfo).port
    }

    beforeAll(async () => {
      ;({ state, hop } = await upLabHop('fixtures/nodeport.yaml', prefix, log, (read) => (node) => {
        tableReads++
        return read(node)
      }))
    }, 60_000)

    afterAll(async () => {
      for (const s of servers) s.close()
      await downLabHop(prefix, hop)
    }, 60_000)

    it('curl from the host reaches a NodePort through the kernel, and the log names the pod it chose', async () => {
      const port = await entry({ node: 'node-a', host: '192.168.77.10', port: 30080 })
      const answers: { pod: string; seen: string }[] = []
      for (let i = 0; i < 12; i++) {
        const r = await run(['curl', '-s', '-m', '5', `http://127.0.0.1:${port}/`])
        expect(r.code, r.stderr).toBe(0)
        const [pod, seen] = r.stdout.trim().split(' ')
        answers.push({ pod: pod!, seen: seen! })
      }
      // The lab's pod servers answer "NAME CLIENT:PORT"; the NodePort's masquerade made CLIENT a node address.
      expect(new Set(answers.map((a) => a.pod)).size).toBeGreaterThanOrEqual(2)
      // A record is written once conntrack named the endpoint: the first one may have waited a second
      // for a NEW event its follower (started with it) could not see, and then read the table.
      const ofNodePort = (): ConnectionRecord[] => log.recent().filter((r) => r.destination === '192.168.77.10 port 30080/tcp')
      for (let i = 0; i < 100 && ofNodePort().length < 12; i++) await new Promise((r) => setTimeout(r, 50))
      const records = ofNodePort()
      expect(records).toHaveLength(12)
      for (const a of answers) {
        const rec = records.find((r) => r.seen === a.seen)
        expect(rec, `no log entry saw ${a.seen}`).toBeDefined()
        expect(rec!.pod).toBe(`default/${a.pod}`)
        expect(rec!.verdict).toBe('forward')
        expect(rec!.node).toBe('node-a')
      }
      // The endpoints came from conntrack's NEW events; at most the first connection, which may
      // have beaten the event follower's start, needed a table read.
      expect(tableReads).toBeLessThanOrEqual(1)
    }, 60_000)

    it('hands a ClusterIP in through another node', async () => {
      const r = await hop.open({ entry: 'test', client: 'test', node: 'node-b', host: '10.96.0.11', port: 80 })
      expect(r.kind).toBe('connected')
      if (r.kind !== 'connected') return
      const text = await new Promise<string>((resolve, reject) => {
        let t = ''
        r.socket.setEncoding('utf8')
        r.socket.on('data', (d: string) => (t += d))
        r.socket.on('end', () => resolve(t))
        r.socket.on('error', reject)
        r.socket.end('GET / HTTP/1.0\r\n\r\n')
      })
      const endpoint = await r.endpoint
      expect(endpoint?.port).toBe(8080)
      // The pod that answered is the one conntrack on node-b names.
      const pod = state.plan!.pods.find((p) => p.address === endpoint?.address)
      expect(text).toContain(pod!.name)
      expect(r.local.address).toBe(handInSources(state.plan!).get('node-b'))
    }, 30_000)

    it('reports what the kernel refused', async () => {
      const r = await hop.open({ entry: 'test', client: 'test', node: 'node-a', host: '192.168.77.10', port: 31999 })
      expect(r).toMatchObject({ kind: 'refused', code: 'ECONNREFUSED' })
      expect(log.recent().at(-1)).toMatchObject({ verdict: 'reject', destination: '192.168.77.10 port 31999/tcp' })
    }, 30_000)
  })

  describe('kernel hand-in hop: externalTrafficPolicy Local (rootless lab)', () => {
    const name = `${prefix.slice(0, 6)}l`
    const log = new ConnectionLog()
    let state: LabState
    let hop: KernelHandIn

    beforeAll(async () => {
      ;({ state, hop } = await upLabHop('fixtures/external-traffic-policy-local.yaml', name, log))
    }, 60_000)

    afterAll(async () => {
      await downLabHop(name, hop)
    }, 60_000)

    it('a LoadBalancer IP keeps the client address on a node with a local endpoint and is dropped on one without', async () => {
      const source = handInSources(state.plan!).get('node-b')!
      const r = await hop.open({ entry: 'test', client: 'test', node: 'node-b', host: '192.168.77.200', port: 80 })
      expect(r.kind).toBe('connected')
      if (r.kind !== 'connected') return
      r.socket.end('GET / HTTP/1.0\r\n\r\n')
      let text = ''
      r.socket.setEncoding('utf8')
      r.socket.on('data', (d: string) => (text += d))
      await once(r.socket, 'end')
      // node-b's only local endpoint answered, and saw the external host's own address: no masquerade.
      expect(text).toContain(`web-6d4cf56db6-r7qwt ${source}:${r.local.port}`)
      expect(await r.endpoint).toEqual({ address: '10.244.1.2', port: 8080 })
      // node-c has no local endpoint: KUBE-EXTERNAL-SERVICES drops, and the hop reports the kernel's silence.
      const dropped = await hop.open({ entry: 'test', client: 'test', node: 'node-c', host: '192.168.77.200', port: 80, timeoutMs: 800 })
      expect(dropped).toMatchObject({ kind: 'dropped', code: 'ETIMEDOUT' })
      expect(log.recent().at(-1)).toMatchObject({ node: 'node-c', verdict: 'drop' })
    }, 30_000)
  })
}
