/**
 * KWOK-scale benchmarks: `kpe up --nodes N` in its own process (the real CLI, lightweight nodes),
 * pods created by keep-alive clients in the bench process, bound by kpe's scheduler and reported
 * Running by the fake kubelet. Each figure is printed beside a baseline from the same run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { call } from './api.js'
import { figure, type Figure } from './figures.js'
import { spawnTracked, stderrOf, stopProcess } from './procs.js'

/** KWOK's README: "create 20 nodes or pods per second" on a laptop. */
export const kwokPublishedPodsPerSecond = 20

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))

/** 1,024 /22 pod subnets in 10.240.0.0/12: 1,003 nodes fit, and the 3 real nodes of the baseline take 1,000 pods (a /24 holds 253). */
const scaleClusterConfig = 'apiVersion: kpe.io/v1alpha1\nkind: KpeCluster\nclusterCIDR: 10.240.0.0/12\nnodeCIDRMaskSize: 22\n'

export interface ScaleCluster {
  readonly child: ChildProcess
  readonly url: string
  /** From spawn to every node registered, Ready and holding a Lease. */
  readonly upSeconds: number
  readonly dir: string
}

export async function startScaleCluster(nodes: number, opts: { profileDir?: string } = {}): Promise<ScaleCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kpe-bench-scale-'))
  writeFileSync(join(dir, 'cluster.yaml'), scaleClusterConfig)
  const prof = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : []
  const t = process.hrtime.bigint()
  const child = spawnTracked(process.execPath, [...prof, main, 'up', '--data-dir', join(dir, 'data'), '--cluster-config', join(dir, 'cluster.yaml'),
    '--port', '0', '--socks-port', '0', '--http-proxy-port', '0', '--metrics-port', '0', '--dns-port', '0', '--ingress-port', '0', '--ingress-tls-port', '0',
    '--node-loopback-prefix', `127.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 200)}.`, ...(nodes > 0 ? ['--nodes', String(nodes)] : [])])
  // From the API, not the summary: the summary also waits for the cluster to settle.
  const deadline = Date.now() + 300_000
  const serverJson = join(dir, 'data', 'server.json')
  let url: string | undefined
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kpe up --nodes ${nodes} exited ${child.exitCode}: ${stderrOf(child)}`)
    if (Date.now() > deadline) throw new Error(`kpe up --nodes ${nodes}: nodes not Ready in 300 s: ${stderrOf(child)}`)
    try {
      url ??= (JSON.parse(readFileSync(serverJson, 'utf8')) as { url: string }).url
      const r = await readyNodes(url)
      // Ready, and heartbeating: a Lease per node (Nodes are registered Ready before their first beat).
      const leases = (JSON.parse((await call(url, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', undefined, false)).body) as { items: unknown[] }).items.length
      if (r.total === nodes + 3 && r.ready === r.total && leases === r.total) break
    } catch { /* not up yet */ }
    await new Promise((res) => setTimeout(res, 100))
  }
  return { child, url, dir, upSeconds: Number(process.hrtime.bigint() - t) / 1e9 }
}

export async function stopScaleCluster(c: ScaleCluster): Promise<void> {
  await stopProcess(c.child, 10_000)
  rmSync(c.dir, { recursive: true, force: true })
}

const pod = (name: string): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'scale' } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } })

/** `count` Pod POSTs from `clients` keep-alive connections; answers creates per second. */
export async function createPods(url: string, count: number, clients = 64): Promise<{ perSecond: number; failed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients })
  let next = 0
  let failed = 0
  const t = process.hrtime.bigint()
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < count) {
      const i = next++
      const r = await call(url, 'POST', '/api/v1/namespaces/default/pods', pod(`scale-${i}`), agent)
      if (r.status !== 201) failed++
    }
  }))
  agent.destroy()
  return { perSecond: (count - failed) / (Number(process.hrtime.bigint() - t) / 1e9), failed }
}

/**
 * Opens a watch of the Pods that are Running (field selector status.phase=Running: a Pod is ADDED
 * when it becomes Running) before the creates, and resolves once `count` distinct Pods have shown
 * up in it, or at the deadline. One stream: listing 100,000 pods to poll for them was most of
 * the server's work.
 */
export function watchRunning(url: string): { until(count: number, timeoutMs: number, gone?: () => boolean): Promise<boolean>; close(): void } {
  const seen = new Set<string>()
  let wake: (() => void) | undefined
  let buf = ''
  const req = request(`${url}/api/v1/namespaces/default/pods?watch=true&fieldSelector=${encodeURIComponent('status.phase=Running')}`, { agent: false }, (res) => {
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buf += chunk
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        // The object's own name is the first "name" of the event; no full parse on the hot path.
        const name = /"name":"([^"]+)"/.exec(line)?.[1]
        if (name !== undefined && !line.startsWith('{"type":"DELETED"')) seen.add(name)
      }
      wake?.()
    })
  })
  req.on('error', () => wake?.())
  req.end()
  return {
    async until(count, timeoutMs, gone = () => false) {
      const end = Date.now() + timeoutMs
      while (seen.size < count && Date.now() < end && !gone()) await new Promise<void>((res) => { wake = res; setTimeout(res, 1000) })
      return seen.size >= count
    },
    close: () => req.destroy(),
  }
}

async function readyNodes(url: string): Promise<{ ready: number; total: number }> {
  const r = await call(url, 'GET', '/api/v1/nodes', undefined, false)
  const items = (JSON.parse(r.body) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] }).items
  return { ready: items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length, total: items.length }
}

/** A process's resident memory now (`VmRSS`), or its peak so far (`VmHWM`), in MiB. */
export function rssMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | null {
  if (pid === undefined) return null
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : null
}

interface ScaleRun { readonly seconds: number; readonly createPerSecond: number; readonly rssMb: number | null; readonly failed: number; readonly ready: { ready: number; total: number }; readonly allRunning: boolean }

/** One cluster: start with `nodes` lightweight nodes, create `pods`, wait for all Running. */
async function scaleRun(nodes: number, pods: number, profileDir: string | undefined): Promise<ScaleRun> {
  const t = process.hrtime.bigint()
  const c = await startScaleCluster(nodes, profileDir ? { profileDir } : {})
  try {
    const running = watchRunning(c.url)
    const created = await createPods(c.url, pods)
    const allRunning = await running.until(pods - created.failed, 1_200_000, () => c.child.exitCode !== null || c.child.signalCode !== null)
    if (c.child.exitCode !== null || c.child.signalCode !== null) throw new Error(`kpe up --nodes ${nodes} died with ${pods} pods: ${stderrOf(c.child).slice(-1500)}`)
    running.close()
    const seconds = Number(process.hrtime.bigint() - t) / 1e9
    return { seconds, createPerSecond: created.perSecond, failed: created.failed, rssMb: rssMb(c.child.pid), ready: await readyNodes(c.url), allRunning }
  } finally {
    await stopScaleCluster(c)
  }
}

export async function scaleBenchmarks(opts: { quick: boolean; profileDir?: string; nodes?: number; pods?: number }): Promise<Figure[]> {
  const [nodes, pods] = [opts.nodes ?? (opts.quick ? 100 : 1_000), opts.pods ?? (opts.quick ? 5_000 : 100_000)]
  const base = await scaleRun(0, opts.quick ? 500 : 1_000, undefined)
  const big = await scaleRun(nodes, pods, opts.profileDir)
  const label = `${nodes} lightweight + 3 real nodes, ${pods} pods`
  const problems = [
    big.failed ? `${big.failed} creates failed` : '', big.allRunning ? '' : 'NOT all pods Running', big.ready.ready === big.ready.total ? '' : `${big.ready.total - big.ready.ready} nodes not Ready`,
  ].filter((x) => x !== '').join('; ')
  return [
    figure(`scale.nodes${nodes >= 1_000 ? `${nodes / 1_000}k` : nodes}.ready.s`, big.seconds, 's', base.seconds, { note: `${label}: start to every node Ready and every pod bound and Running; baseline: 3 nodes, ${opts.quick ? 500 : 1_000} pods${problems ? `; ${problems}` : ''}` }),
    figure('scale.pods.create.per_s', big.createPerSecond, 'pods/s', kwokPublishedPodsPerSecond, { goal: '>= 1000', note: `64 keep-alive clients POSTing Pods into ${label}; baseline: KWOK's published 20/s` }),
    figure('scale.rss.mb', big.rssMb, 'MiB', base.rssMb, { note: `kpe up's RSS with ${label}, all Running; baseline: 3 nodes, ${opts.quick ? 500 : 1_000} pods` }),
  ]
}
