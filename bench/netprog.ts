/**
 * netprog.p99.ms: network programming latency as upstream's SLI defines it, end to end in a real
 * `kpe up --nodes N` child holding S Services: Deployments are scaled through the API, the
 * EndpointSlice controller writes slices with endpoints.kubernetes.io/last-change-trigger-time,
 * and every node's kube-proxy loop observes trigger-to-synced in
 * kubeproxy_network_programming_duration_seconds, which the bench reads from /metrics.
 * Baseline: upstream's SLO, p99 under 30 s.
 */
import { readFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { join } from 'node:path'
import { call } from './api.js'
import { figure, type Figure } from './figures.js'
import { histogramDelta, histogramQuantile, scrapeHistogram, type ScrapedHistogram } from './prometheus-histogram.js'
import { stderrOf } from './procs.js'
import { rssMb, startScaleCluster, stopScaleCluster, type ScaleCluster } from './scale.js'

/** Upstream's network programming latency SLO (sig-scalability): p99 within 30 s. */
export const netprogSloMs = 30_000

const metric = 'kubeproxy_network_programming_duration_seconds'
const syncMetric = 'kubeproxy_sync_proxy_rules_duration_seconds'
/** The lightweight nodes' shared loop's label on /metrics (src/up/agent-server.ts). */
const lightweightLabel = 'node="(lightweight)"'

/** Requests from `clients` keep-alive connections; throws on the first answer that is not `expect`. */
async function sendAll(url: string, requests: readonly { method: string; path: string; body?: unknown }[], expect: number, clients = 64): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients })
  let next = 0
  try {
    await Promise.all(Array.from({ length: clients }, async () => {
      while (next < requests.length) {
        const r = requests[next++]!
        const answer = await callRetrying(url, r, agent)
        // A create retried after a reset may have landed the first time.
        if (answer.status !== expect && !(answer.retried && answer.status === 409)) throw new Error(`${r.method} ${r.path}: ${answer.status} ${answer.body.slice(0, 300)}`)
      }
    }))
  } finally {
    agent.destroy()
  }
}

/** One request, sent again (up to 3 times) when the connection fails under it or a busy server times it out, as a client-go retry would. */
async function callRetrying(url: string, r: { method: string; path: string; body?: unknown }, agent: Agent): Promise<{ status: number; body: string; retried: boolean }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const answer = await call(url, r.method, r.path, r.body, agent)
      // 408, 429, 503: the server gave up on the request while busy; as client-go, ask again.
      if (![408, 429, 503].includes(answer.status) || attempt >= 3) return { ...answer, retried: attempt > 0 }
      await sleep(500 * (attempt + 1))
    } catch (err) {
      if (attempt >= 3) throw new Error(`${r.method} ${r.path}: ${err instanceof Error ? err.message : String(err)} (4 attempts)`)
      await sleep(200 * (attempt + 1))
    }
  }
}

const pad = (n: number): string => String(n).padStart(4, '0')

/**
 * The background: `count` selectorless ClusterIP Services, each with an EndpointSlice of 5
 * endpoints on lightweight nodes written by the bench (no trigger time: they are not measured),
 * so every node's rules hold S Services as a real cluster's would.
 */
function backgroundObjects(count: number, nodes: number): { services: unknown[]; slices: unknown[] } {
  const services: unknown[] = []
  const slices: unknown[] = []
  for (let i = 0; i < count; i++) {
    const name = `bg-${i}`
    services.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } })
    slices.push({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: 5 }, (_, e) => {
        const n = i * 5 + e
        return { addresses: [`10.250.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true }, nodeName: `node-${pad((n * 7919) % nodes)}` }
      }),
    })
  }
  return { services, slices }
}

async function getJson<T>(url: string, path: string): Promise<T> {
  const r = await call(url, 'GET', path, undefined, false)
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body.slice(0, 300)}`)
  return JSON.parse(r.body) as T
}

async function text(url: string): Promise<string> {
  const r = await call(url, 'GET', '', undefined, false)
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`)
  return r.body
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The agents' URL, from server.json once kpe up has written its entry points. */
async function agentsUrl(c: ScaleCluster): Promise<string> {
  const deadline = Date.now() + 120_000
  for (;;) {
    try {
      const agents = (JSON.parse(readFileSync(join(c.dir, 'data', 'server.json'), 'utf8')) as { agents?: string }).agents
      if (agents) return agents
    } catch { /* not written yet */ }
    if (Date.now() > deadline) throw new Error('kpe up wrote no agents URL in server.json within 120 s')
    await sleep(200)
  }
}

/**
 * Waits until no loop has made an observation for `quietMs`: each loop syncs within minSyncPeriod
 * of a slice write (longer when kpe up is busy), so a quiet spell means none is pending. Sync
 * times are not used: the real nodes also sync every syncPeriod with nothing to do. Returns the
 * last scrape, and whether it settled before the timeout.
 */
async function settle(agents: string, quietMs: number, timeoutMs: number): Promise<{ metrics: string; settled: boolean }> {
  const deadline = Date.now() + timeoutMs
  let count = -1
  let quietSince = Date.now()
  for (;;) {
    const metrics = await text(`${agents}/metrics`)
    const c = scrapeHistogram(metrics, metric).count
    if (c !== count) {
      count = c
      quietSince = Date.now()
    } else if (Date.now() - quietSince >= quietMs) return { metrics, settled: true }
    if (Date.now() > deadline) return { metrics, settled: false }
    await sleep(250)
  }
}

interface Round { readonly ips: readonly string[]; readonly rulesMs: ReadonlyMap<string, number> }

/** Scales every measured Deployment to `replicas`; resolves with the endpoints' IPs once each slice holds them all ready. */
async function scaleRound(url: string, agents: string, deployments: number, replicas: number, sampleNodes: readonly string[]): Promise<Round> {
  const t = Date.now()
  for (let d = 0; d < deployments; d++) {
    const path = `/apis/apps/v1/namespaces/default/deployments/np-${d}`
    const dep = await getJson<{ spec: { replicas: number } }>(url, path)
    const r = await call(url, 'PUT', path, { ...dep, spec: { ...dep.spec, replicas } }, false)
    if (r.status !== 200) throw new Error(`scale np-${d}: ${r.status} ${r.body.slice(0, 300)}`)
  }
  const deadline = Date.now() + 300_000
  let ips: string[] = []
  for (;;) {
    const slices = await getJson<{ items: { metadata: { labels?: Record<string, string> }; endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[] }>(
      url, `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=${encodeURIComponent('bench=netprog')}`)
    const per = new Map<string, string[]>()
    for (const s of slices.items) {
      const svc = s.metadata.labels?.['kubernetes.io/service-name'] ?? ''
      per.set(svc, [...(per.get(svc) ?? []), ...(s.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => e.addresses[0]!)])
    }
    ips = [...per.values()].flat()
    if (per.size === deployments && [...per.values()].every((v) => v.length === replicas)) break
    if (Date.now() > deadline) throw new Error(`scale to ${replicas}: slices hold ${ips.length} of ${deployments * replicas} ready endpoints after 300 s`)
    await sleep(100)
  }
  // Cross-check: the sample nodes' rules as /rules/NODE serves them, from the scale request.
  const rulesMs = new Map<string, number>()
  for (const node of sampleNodes) {
    for (;;) {
      const rules = await text(`${agents}/rules/${node}`)
      if (ips.every((ip) => rules.includes(`--to-destination ${ip}:`))) break
      if (Date.now() > deadline) throw new Error(`/rules/${node} lacks the new endpoints 300 s after the scale`)
      await sleep(100)
    }
    rulesMs.set(node, Date.now() - t)
  }
  return { ips, rulesMs }
}

const fmt = (s: number | null): string => (s === null ? '-' : `${(s * 1000).toFixed(0)} ms`)

export async function netprogBenchmarks(opts: { quick: boolean; nodes?: number; services?: number; profileDir?: string }): Promise<Figure[]> {
  const nodes = opts.nodes ?? (opts.quick ? 100 : 1_000)
  const services = opts.services ?? (opts.quick ? 1_000 : 10_000)
  const [deployments, rounds] = [10, opts.quick ? 3 : 5]
  const tStart = Date.now()
  const c = await startScaleCluster(nodes, opts.profileDir ? { profileDir: opts.profileDir } : {})
  try {
    const agents = await agentsUrl(c)
    const bg = backgroundObjects(services - deployments, nodes)
    const tSetup = Date.now()
    await sendAll(c.url, bg.services.map((body) => ({ method: 'POST', path: '/api/v1/namespaces/default/services', body })), 201)
    const servicesSeconds = (Date.now() - tSetup) / 1000
    await sendAll(c.url, bg.slices.map((body) => ({ method: 'POST', path: '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', body })), 201)
    const slicesSeconds = (Date.now() - tSetup) / 1000 - servicesSeconds
    for (let d = 0; d < deployments; d++) {
      const labels = { app: `np-${d}` }
      await sendAll(c.url, [
        { method: 'POST', path: '/api/v1/namespaces/default/services', body: { apiVersion: 'v1', kind: 'Service', metadata: { name: `np-${d}`, labels: { bench: 'netprog' } }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } } },
        { method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments', body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `np-${d}` }, spec: { replicas: 0, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } } } } },
      ], 201, 1)
    }
    const setupSeconds = (Date.now() - tSetup) / 1000
    process.stderr.write(`kpe bench: netprog: ${services} Services created in ${setupSeconds.toFixed(1)} s; waiting for the kube-proxy loops to settle\n`)
    // The EndpointSlice controller labels its slices with the Service's labels: bench=netprog finds the measured ones.
    const setup = await settle(agents, 5_000, 600_000)
    const settled = setup.metrics
    let unsettled = setup.settled ? 0 : 1
    const sample = ['node-a', `node-${pad(Math.floor(nodes / 2))}`]
    const crossMs: number[] = []
    let endpoints = 0
    for (let r = 1; r <= rounds; r++) {
      const round = await scaleRound(c.url, agents, deployments, r, sample)
      process.stderr.write(`kpe bench: netprog: round ${r}: /rules of ${sample.join(', ')} hold the new endpoints after ${[...round.rulesMs.values()].join(', ')} ms\n`)
      endpoints = round.ips.length
      crossMs.push(...round.rulesMs.values())
      if (!(await settle(agents, 5_000, 120_000)).settled) unsettled++
    }
    const after = await text(`${agents}/metrics`)
    const [rss, peakRss] = [rssMb(c.child.pid), rssMb(c.child.pid, 'VmHWM')]
    const isReal = (labels: string): boolean => labels !== lightweightLabel
    const all = histogramDelta(scrapeHistogram(settled, metric), scrapeHistogram(after, metric))
    const real = histogramDelta(scrapeHistogram(settled, metric, isReal), scrapeHistogram(after, metric, isReal))
    const q = (h: ScrapedHistogram, p: number): number | null => histogramQuantile(h, p)
    const p99 = q(all, 0.99)
    // What one sync cost during the rounds: the lightweight nodes' shared loop, and a real node's own.
    const syncMean = (keep: (labels: string) => boolean): string => {
      const d = histogramDelta(scrapeHistogram(settled, syncMetric, keep), scrapeHistogram(after, syncMetric, keep))
      return d.count ? `${((d.sum / d.count) * 1000).toFixed(0)} ms` : '-'
    }
    const problems = `${all.count === 0 ? '; NO observations' : ''}${unsettled ? `; ${unsettled} waits for the loops to go quiet timed out` : ''}`
    return [figure('netprog.p99.ms', p99 === null ? null : p99 * 1000, 'ms', netprogSloMs, {
      goal: '< 30000 (upstream SLO)',
      note: `kpe up --nodes ${nodes} (+3 real) with ${services} Services (${services - deployments} with 5 endpoints each; setup ${setupSeconds.toFixed(0)} s: `
        + `Services POSTed at ${(bg.services.length / servicesSeconds).toFixed(0)}/s, EndpointSlices at ${(bg.slices.length / slicesSeconds).toFixed(0)}/s): ${rounds} rounds scaling ${deployments} Deployments by one pod through the API; `
        + `${metric} from /metrics (trigger time = the pod's Ready transition, whole seconds as the API writes it, to the sync that applied it, per EndpointSlice write per node; lightweight nodes: their shared loop's sync, rules cut per node on request; real nodes: applied to their interpreter tables), `
        + `histogram_quantile over the buckets: ${all.count} observations, p50 ${fmt(q(all, 0.5))}, mean ${fmt(all.count ? all.sum / all.count : null)}; real nodes alone p99 ${fmt(q(real, 0.99))} (${real.count}); `
        + `mean sync: lightweight loop ${syncMean((l) => !isReal(l))}, real node ${syncMean(isReal)}; `
        + `cross-check /rules of ${sample.join(', ')} hold all ${endpoints} endpoints at most ${Math.max(0, ...crossMs)} ms after the scale request; `
        + `kpe up's RSS ${rss?.toFixed(0) ?? '-'} MiB (peak ${peakRss?.toFixed(0) ?? '-'} MiB); wall time ${((Date.now() - tStart) / 1000).toFixed(0)} s${problems}`,
    })]
  } catch (err) {
    const exited = c.child.exitCode !== null || c.child.signalCode !== null
    throw exited ? new Error(`kpe up --nodes ${nodes} exited (${c.child.exitCode ?? c.child.signalCode}): ${stderrOf(c.child).slice(-1500)}`, { cause: err }) : err
  } finally {
    await stopScaleCluster(c)
  }
}
