/**
 * End-to-end: the real kubectl against `startControlPlane` (allocators, controllers, scheduler,
 * the stand-in kubelet marking Pods ready). Services get ClusterIPs/NodePorts/ingress IPs,
 * Nodes disjoint pod CIDRs, Deployments scale and roll out, EndpointSlices follow Pods, bad
 * requests get 422 with field paths, and a restart keeps allocations unique (KPE_E2E_STORE=etcd:
 * all of it on a real etcd). Temp HOME, data dir and --cache-dir; without kubectl the suite fails
 * when CI is set and is skipped otherwise.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startControlPlane, type ControlPlane } from '../../src/cluster/index.js'
import { e2eControlPlaneStore } from './kpe-up-store.js'
import { cidrContains, parseCidr, type IPAddress } from '../../src/net/index.js'

const kubectlPath = '/usr/bin/kubectl'
const hasKubectl = existsSync(kubectlPath)
if (!hasKubectl) {
  if (process.env['CI']) throw new Error(`${kubectlPath} is missing, and CI is set: the kubectl end-to-end tests cannot be skipped`)
  console.warn(`skipping control-plane kubectl e2e tests: ${kubectlPath} not found (install google-cloud-cli's kubectl)`)
}

let work = ''
let cp: ControlPlane
let env: NodeJS.ProcessEnv = {}
let cacheDir = ''
const controllerErrors: string[] = []

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(kubectlPath, [...args, '--cache-dir', cacheDir], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args)
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

async function json<T>(...args: string[]): Promise<T> {
  return JSON.parse(await ok(...args, '-o', 'json')) as T
}

async function manifest(name: string, text: string): Promise<string> {
  const p = join(work, name)
  await writeFile(p, text)
  return p
}

async function eventually(check: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  const start = Date.now()
  for (;;) {
    try {
      await check()
      return
    } catch (e) {
      if (Date.now() - start > timeoutMs) throw e
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** KPE_E2E_STORE=etcd: the control plane keeps its objects in a real etcd started for this file. */
let store: Awaited<ReturnType<typeof e2eControlPlaneStore>> | undefined

async function start(): Promise<void> {
  cp = await startControlPlane({
    dataDir: join(work, 'data'), port: 0, fakeKubelet: { terminationDelayMs: 400 },
    ...store?.options,
    onControllerError: (c, k, e) => { controllerErrors.push(`${c} ${k}: ${String(e)}`) },
  })
  cacheDir = await mkdtemp(join(work, 'cache-'))
  const { KUBECONFIG: _drop, ...rest } = process.env
  env = { ...rest, KUBECONFIG: cp.kubeconfigPath, HOME: work }
}

beforeAll(async () => {
  if (!hasKubectl) return
  work = await mkdtemp(join(tmpdir(), 'kpe-controlplane-'))
  store = await e2eControlPlaneStore(work)
  await start()
})

afterAll(async () => {
  if (!hasKubectl) return
  await cp.stop()
  await store?.stop()
  await rm(work, { recursive: true, force: true })
})

const serviceCidr = parseCidr('10.96.0.0/12')!
const lbPool = /^192\.168\.77\.(2[0-4]\d|250)$/

interface Svc { metadata: { name: string }; spec: { clusterIP: string; ports: { nodePort?: number }[]; healthCheckNodePort?: number }; status: { loadBalancer: { ingress?: { ip: string }[] } } }
interface Slice { endpoints: { addresses: string[]; conditions: { ready: boolean; serving: boolean; terminating: boolean }; targetRef: { name: string } }[] }
interface PodJson { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string; containers: { image: string }[] }; status: { podIP?: string } }

const services = `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: v1
kind: Service
metadata: { name: web-np }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http, nodePort: 30080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web-lb }
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`

const deployment = (image: string, replicas: number): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: ${replicas}
  strategy: { type: RollingUpdate, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: ${image}
        ports: [{ name: http, containerPort: 8080 }]
`

async function webSliceEndpoints(): Promise<Slice['endpoints']> {
  const list = await json<{ items: Slice[] }>('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web')
  return list.items.flatMap((s) => s.endpoints ?? [])
}

describe.skipIf(!hasKubectl)('kubectl against the kpe control plane', () => {
  it('gives the demo nodes disjoint pod CIDRs from the cluster CIDR', async () => {
    const nodes = await json<{ items: { metadata: { name: string }; spec: { podCIDR: string; podCIDRs: string[] } }[] }>('get', 'nodes')
    expect(nodes.items.map((n) => n.metadata.name)).toEqual(['node-a', 'node-b', 'node-c'])
    const cidrs = nodes.items.map((n) => n.spec.podCIDR)
    expect(new Set(cidrs).size).toBe(3)
    for (const c of cidrs) expect(c).toMatch(/^10\.244\.\d+\.0\/24$/)
    expect(nodes.items.every((n) => n.spec.podCIDRs[0] === n.spec.podCIDR)).toBe(true)
  })

  it('allocates a ClusterIP in the service CIDR, node ports and a LoadBalancer ingress address on apply', async () => {
    expect(await ok('apply', '-f', await manifest('services.yaml', services))).toMatch(/service\/web created[\s\S]*service\/web-np created[\s\S]*service\/web-lb created/)
    const kube = await json<Svc>('get', 'svc', 'kubernetes')
    expect(kube.spec.clusterIP).toBe('10.96.0.1')
    const all = await json<{ items: Svc[] }>('get', 'svc')
    for (const s of all.items) expect(cidrContains(serviceCidr, s.spec.clusterIP as IPAddress), s.metadata.name).toBe(true)
    expect(new Set(all.items.map((s) => s.spec.clusterIP)).size).toBe(all.items.length)
    const np = all.items.find((s) => s.metadata.name === 'web-np')!
    expect(np.spec.ports[0]?.nodePort).toBe(30080)
    const lb = all.items.find((s) => s.metadata.name === 'web-lb')!
    expect(lb.spec.ports[0]?.nodePort).toBeGreaterThanOrEqual(30000)
    expect(lb.spec.ports[0]?.nodePort).toBeLessThanOrEqual(32767)
    expect(lb.spec.ports[0]?.nodePort).not.toBe(30080)
    expect(lb.spec.healthCheckNodePort).toBeGreaterThanOrEqual(30000)
    expect(lb.spec.healthCheckNodePort).not.toBe(lb.spec.ports[0]?.nodePort)
    expect(lb.status.loadBalancer.ingress?.[0]?.ip).toMatch(lbPool)
    expect(await ok('get', 'svc', 'web-lb')).toMatch(/web-lb\s+LoadBalancer\s+10\.\S+\s+192\.168\.77\.2\d\d\s+80:3\d{4}\/TCP/)
    // re-applying keeps every allocation
    expect(await ok('apply', '-f', join(work, 'services.yaml'))).toMatch(/service\/web unchanged/)
    expect((await json<Svc>('get', 'svc', 'web-lb')).spec.ports[0]?.nodePort).toBe(lb.spec.ports[0]?.nodePort)
  })

  it('rejects a taken nodePort and a clusterIP outside the CIDR with 422 and field paths, storing nothing', async () => {
    const taken = await manifest('taken.yaml', 'apiVersion: v1\nkind: Service\nmetadata: { name: clash }\nspec:\n  type: NodePort\n  ports: [{ port: 80, nodePort: 30080 }]\n')
    const r1 = await kubectl('create', '-f', taken)
    expect(r1.code).not.toBe(0)
    expect(r1.stderr).toMatch(/Service "clash" is invalid: spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/)
    const outside = await manifest('outside.yaml', 'apiVersion: v1\nkind: Service\nmetadata: { name: outside }\nspec:\n  clusterIP: 10.0.0.10\n  ports: [{ port: 80 }]\n')
    const r2 = await kubectl('apply', '-f', outside)
    expect(r2.code).not.toBe(0)
    expect(r2.stderr).toMatch(/Service "outside" is invalid: spec\.clusterIPs\[0\]: Invalid value: "10\.0\.0\.10": failed to allocate IP 10\.0\.0\.10: the provided IP \(10\.0\.0\.10\) is not in the valid range\. The range of valid IPs is 10\.96\.0\.0\/12/)
    const range = await manifest('range.yaml', 'apiVersion: v1\nkind: Service\nmetadata: { name: range }\nspec:\n  type: NodePort\n  ports: [{ port: 80, nodePort: 8080 }]\n')
    expect((await kubectl('create', '-f', range)).stderr).toMatch(/spec\.ports\[0\]\.nodePort: Invalid value: 8080: provided port is not in the valid range\. The range of valid ports is 30000-32767/)
    for (const name of ['clash', 'outside', 'range']) expect((await kubectl('get', 'svc', name)).stderr).toMatch(/NotFound/)
  })

  it('rolls out a Deployment; rollout status completes once the kubelet reports the Pods ready', async () => {
    expect(await ok('apply', '-f', await manifest('deploy.yaml', deployment('nginx:1.27', 2)))).toMatch(/deployment.apps\/web created/)
    expect(await ok('rollout', 'status', 'deploy/web', '--timeout=60s')).toMatch(/deployment "web" successfully rolled out/)
    expect(await ok('get', 'deploy', 'web')).toMatch(/web\s+2\/2\s+2\s+2/)
    await eventually(async () => {
      const eps = await webSliceEndpoints()
      expect(eps).toHaveLength(2)
      expect(eps.every((e) => e.conditions.ready && cidrContains(parseCidr('10.244.0.0/16')!, e.addresses[0] as IPAddress))).toBe(true)
    })
  })

  it('scales with kubectl scale and spreads the Pods across the nodes', async () => {
    expect(await ok('scale', 'deploy', 'web', '--replicas=3')).toMatch(/deployment.apps\/web scaled/)
    expect(await ok('rollout', 'status', 'deploy/web', '--timeout=60s')).toMatch(/successfully rolled out/)
    const pods = await json<{ items: PodJson[] }>('get', 'pods', '-l', 'app=web')
    const live = pods.items.filter((p) => !p.metadata.deletionTimestamp)
    expect(live).toHaveLength(3)
    expect(new Set(live.map((p) => p.spec.nodeName))).toEqual(new Set(['node-a', 'node-b', 'node-c']))
    await eventually(async () => expect((await webSliceEndpoints()).filter((e) => e.conditions.ready)).toHaveLength(3))
    expect(await ok('describe', 'deploy', 'web')).toMatch(/Replicas:\s+3 desired \| 3 updated \| 3 total \| 3 available \| 0 unavailable[\s\S]*NewReplicaSet:\s+web-\w+ \(3\/3 replicas created\)/)
  })

  it('rolls out an image change and the EndpointSlices follow the new Pods', async () => {
    await ok('set', 'image', 'deploy/web', 'web=nginx:1.28')
    expect(await ok('rollout', 'status', 'deploy/web', '--timeout=60s')).toMatch(/deployment "web" successfully rolled out/)
    const rs = await json<{ items: { metadata: { name: string; labels: Record<string, string> }; spec: { replicas: number } }[] }>('get', 'rs', '-l', 'app=web')
    expect(rs.items).toHaveLength(2)
    expect(rs.items.map((r) => r.spec.replicas).sort()).toEqual([0, 3])
    expect(rs.items.every((r) => r.metadata.name === `web-${r.metadata.labels['pod-template-hash']}`)).toBe(true)
    await eventually(async () => {
      const pods = (await json<{ items: PodJson[] }>('get', 'pods', '-l', 'app=web')).items
      expect(pods).toHaveLength(3)
      expect(pods.every((p) => p.spec.containers[0]?.image === 'nginx:1.28')).toBe(true)
      const eps = await webSliceEndpoints()
      expect(eps.map((e) => e.targetRef.name).sort()).toEqual(pods.map((p) => p.metadata.name).sort())
      expect(eps.every((e) => e.conditions.ready)).toBe(true)
    })
  })

  it('keeps a deleted Pod as a terminating endpoint until the kubelet confirms, then drops it', async () => {
    const pods = (await json<{ items: PodJson[] }>('get', 'pods', '-l', 'app=web')).items
    const victim = pods[0]!
    await ok('delete', 'pod', victim.metadata.name, '--wait=false')
    await eventually(async () => {
      const e = (await webSliceEndpoints()).find((x) => x.targetRef.name === victim.metadata.name)
      expect(e?.conditions).toMatchObject({ ready: false, terminating: true })
    }, 5_000)
    await eventually(async () => {
      const eps = await webSliceEndpoints()
      expect(eps.some((x) => x.targetRef.name === victim.metadata.name)).toBe(false)
      expect(eps.filter((x) => x.conditions.ready)).toHaveLength(3)
    })
    const ep = await json<{ subsets: { addresses: { ip: string }[] }[] }>('get', 'endpoints', 'web')
    expect(ep.subsets.flatMap((s) => s.addresses)).toHaveLength(3)
  })

  it('keeps allocations unique across a restart with the same data dir', async () => {
    const before = (await json<{ items: Svc[] }>('get', 'svc')).items
    await cp.stop()
    await start()
    const again = await json<{ items: Svc[] }>('get', 'svc')
    expect(again.items.map((s) => [s.metadata.name, s.spec.clusterIP])).toEqual(before.map((s) => [s.metadata.name, s.spec.clusterIP]))
    const more = Array.from({ length: 4 }, (_, i) => `apiVersion: v1\nkind: Service\nmetadata: { name: after-${i} }\nspec:\n  type: NodePort\n  ports: [{ port: 80 }]\n`).join('---\n')
    await ok('apply', '-f', await manifest('more.yaml', more))
    const all = (await json<{ items: Svc[] }>('get', 'svc')).items
    const ips = all.map((s) => s.spec.clusterIP)
    expect(new Set(ips).size).toBe(ips.length)
    const ports = all.flatMap((s) => [...s.spec.ports.map((p) => p.nodePort), s.spec.healthCheckNodePort]).filter((p) => p !== undefined)
    expect(new Set(ports).size).toBe(ports.length)
    expect(controllerErrors).toEqual([])
  })
})
