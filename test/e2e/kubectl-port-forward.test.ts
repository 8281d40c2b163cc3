/**
 * The real `kubectl port-forward` against the real `kpe up` CLI, over both of kubectl 1.32's
 * transports: WebSocket-tunnelled SPDY (the default) and plain SPDY upgrade
 * (KUBECTL_PORT_FORWARD_WEBSOCKETS=false). kubectl listens on 127.0.0.1 with a free local port
 * (":PORT"); real curl and a Node TCP client talk to it; the pods answer through the pod network
 * table. Each kubectl is stopped by its PID. Only loopback addresses are dialled.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { curl, hasKubectl, kubectlPath, livePods, spawnServing, startKpeUp, type KpeUp, type Served } from './kpe-up-process.js'

/** The live web pods' names, sorted (the Deployment names them). */
let webPods: string[] = []
const transports = [
  { name: 'WebSocket (default)', env: {}, sign: /negotiated protocol: portforward\.k8s\.io/ },
  { name: 'SPDY upgrade (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)', env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, sign: /POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/default\/pods\/[\w-]+\/portforward 101 Switching Protocols/ },
] as const

/** A pod whose image kpe does not know: it echoes TCP after a one-line greeting naming the pod. */
const echoPodYaml = `apiVersion: v1
kind: Pod
metadata:
  name: tcp-echo
spec:
  nodeName: node-b
  containers:
  - name: echo
    image: registry.example/echo:1
    ports:
    - containerPort: 9000
`

let up: KpeUp
const started: Served[] = []
let forwards = 0

beforeAll(async () => {
  if (!hasKubectl) return
  up = await startKpeUp()
  webPods = (await livePods(up, 'app=web')).map((p) => p.name).sort()
  const f = join(up.dataDir, 'tcp-echo.yaml')
  writeFileSync(f, echoPodYaml)
  const applied = await up.kubectl('apply', '-f', f)
  expect(applied.code, applied.stderr).toBe(0)
  const ready = await up.kubectl('wait', '--for=condition=Ready', 'pod/tcp-echo', '--timeout=20s')
  expect(ready.code, ready.stderr).toBe(0)
}, 60_000)

afterAll(async () => {
  for (const s of started) s.stop()
  await up?.stop()
})

/** `kubectl port-forward TARGET :PORT` on 127.0.0.1; resolves with the local address once it listens. */
async function portForward(target: string, port: string, env: Record<string, string>): Promise<Served> {
  const cacheDir = join(up.dataDir, `kubectl-pf-cache-${forwards++}`)
  const args = ['--kubeconfig', up.kubeconfig, '--cache-dir', cacheDir, 'port-forward', target, `:${port}`, '--address', '127.0.0.1', '-v=6']
  const pf = await spawnServing(kubectlPath, args, /Forwarding from (127\.0\.0\.1:\d+) ->/, 20_000, { ...process.env, ...env })
  started.push(pf)
  return pf
}

/** Sends `payload` over a new connection, half-closes, and returns everything read until close. */
function roundTrip(address: string, payload: Buffer): Promise<Buffer> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))]
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, allowHalfOpen: true })
    const chunks: Buffer[] = []
    s.on('data', (d: Buffer) => chunks.push(d))
    s.on('connect', () => s.end(payload))
    s.on('error', reject)
    s.on('close', () => resolve(Buffer.concat(chunks)))
  })
}

function waitForExit(pf: Served, timeoutMs: number): Promise<number | null> {
  if (pf.child.exitCode !== null) return Promise.resolve(pf.child.exitCode)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl did not exit: ${pf.output()}`)), timeoutMs)
    pf.child.once('exit', (code) => { clearTimeout(timer); resolve(code) })
  })
}

describe.skipIf(!hasKubectl).each(transports)('kubectl port-forward through kpe up over $name', ({ env, sign }) => {
  it('pod/NAME :8080: curl gets that pod\'s answer, also 6 requests in parallel; the pod sees 127.0.0.1', async () => {
    const pf = await portForward(`pod/${webPods[0]}`, '8080', env)
    expect((await curl([`http://${pf.address}/hostname`])).stdout).toBe(webPods[0])
    const parallel = await Promise.all(Array.from({ length: 6 }, () => curl([`http://${pf.address}/hostname`])))
    expect(parallel.map((r) => r.stdout)).toEqual(Array(6).fill(webPods[0]))
    expect((await curl([`http://${pf.address}/clientip`])).stdout).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(pf.output()).toMatch(sign)
    expect(pf.output().match(/Handling connection for \d+/g)).toHaveLength(8)
  })

  it('svc/web :80 goes to one web pod through the targetPort', async () => {
    const pf = await portForward('svc/web', '80', env)
    const hosts = await Promise.all(Array.from({ length: 5 }, () => curl([`http://${pf.address}/hostname`])))
    expect(new Set(hosts.map((r) => r.stdout)).size).toBe(1)
    expect(webPods).toContain(hosts[0]!.stdout)
    expect((await curl([`http://${pf.address}/echo?msg=through%20the%20service`])).stdout).toBe('through the service')
  })

  it('a 4 MB TCP round trip on each of 3 parallel connections comes back byte for byte', async () => {
    const pf = await portForward('pod/tcp-echo', '9000', env)
    const payloads = [0, 1, 2].map(() => randomBytes(4 << 20))
    const replies = await Promise.all(payloads.map((p) => roundTrip(pf.address, p)))
    for (const [i, reply] of replies.entries()) {
      const nl = reply.indexOf(10)
      expect(reply.subarray(0, nl).toString()).toMatch(/^kpe echo: pod default\/tcp-echo \(10\.244\.\d+\.\d+\) saw 127\.0\.0\.1:\d+$/)
      expect(reply.subarray(nl + 1).equals(payloads[i]!)).toBe(true)
    }
  }, 30_000)

  it('a port nothing listens on: kubelet\'s error reaches kubectl, which reports it and exits', async () => {
    const pf = await portForward('pod/tcp-echo', '9999', env)
    const r = await curl([`http://${pf.address}/`])
    expect(r.stdout).toBe('')
    expect(await waitForExit(pf, 10_000)).not.toBe(0)
    expect(pf.output()).toMatch(/error forwarding port 9999 to pod default\/tcp-echo, uid [\w-]+: failed to connect to localhost:9999 inside the pod: nothing listens on 10\.244\.\d+\.\d+:9999 \(not in the pod network table\)/)
    expect(pf.output()).toMatch(/lost connection to pod/)
  })
})

describe.skipIf(!hasKubectl)('kubectl port-forward and kpe connections', () => {
  it('each forwarded connection is recorded under "kubectl port-forward"', async () => {
    const agents = JSON.parse(readFileSync(join(up.dataDir, 'agents.json'), 'utf8')) as { url: string }
    const r = await curl([`${agents.url}/connections`])
    const records = JSON.parse(r.stdout) as { entry: string; verdict: string; pod?: string; reason?: string }[]
    const ours = records.filter((x) => x.entry === 'kubectl port-forward')
    expect(ours.filter((x) => x.verdict === 'forward' && x.pod === `default/${webPods[0]}`).length).toBeGreaterThanOrEqual(16)
    expect(ours.some((x) => x.verdict === 'unreachable' && /9999/.test(x.reason ?? ''))).toBe(true)
  })
})
