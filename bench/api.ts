/**
 * API server benchmarks against kpe's control plane in its own process (kpe-api-child.ts, durable
 * store in a temp dir): ConfigMap creates per second from concurrent keep-alive clients (in their
 * own process on the other core, api-load-child.ts), and the delay from a write to its event at
 * 100 concurrent chunked-HTTP watchers.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { Agent, request, type IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { figure, median, type Figure } from './figures.js'
import { cores } from './peers.js'
import { spawnTracked, stderrOf, stopProcess } from './procs.js'

export async function startApi(dataDir: string, cpu: string | undefined, profileDir: string | undefined, store?: string): Promise<{ child: ChildProcess; url: string }> {
  const script = fileURLToPath(new URL('./kpe-api-child.js', import.meta.url))
  const prof = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const child = spawnTracked(process.execPath, [...prof, script, dataDir, ...(store ? [store] : [])], { stdin: 'pipe', ...(cpu !== undefined ? { cpus: cpu } : {}) })
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('kpe-api-child: not ready in 30 s')), 30_000)
    child.once('exit', (code) => reject(new Error(`kpe-api-child exited ${code}`)))
    createInterface({ input: child.stdout! }).once('line', (l) => { clearTimeout(timer); resolve(l) })
  })
  return { child, url: (JSON.parse(line) as { url: string }).url }
}

/** One HTTP request to kpe's API server with a JSON body; the answer's status and text. */
export function call(url: string, method: string, path: string, body: unknown, agent: Agent | false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body)
    const req = request(`${url}${path}`, { method, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      // A connection reset mid-answer is the request's failure, not an uncaught error.
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(data)
  })
}

export async function createNamespace(url: string, name: string): Promise<void> {
  const r = await call(url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, false)
  if (r.status !== 201 && r.status !== 409) throw new Error(`create namespace ${name}: ${r.status} ${r.body.slice(0, 200)}`)
}

export const configMap = (name: string): unknown => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { bench: 'kpe' } }, data: { key: 'value', other: 'x'.repeat(64) } })

/** 1 KiB append + fdatasync, one at a time, in the store's directory: what one durable write costs the disk. */
function fdatasyncRate(dir: string, ms: number): number {
  const fd = openSync(join(dir, 'fsync-probe'), 'a')
  const buf = Buffer.alloc(1024, 120)
  let n = 0
  const end = Date.now() + ms
  const t = process.hrtime.bigint()
  try {
    while (Date.now() < end) {
      writeSync(fd, buf)
      fdatasyncSync(fd)
      n++
    }
  } finally {
    closeSync(fd)
  }
  return n / (Number(process.hrtime.bigint() - t) / 1e9)
}

export async function writeRound(url: string, round: number, clients: number, ms: number, agent: Agent): Promise<{ rate: number; failed: number }> {
  let ok = 0
  let failed = 0
  const end = Date.now() + ms
  const t = process.hrtime.bigint()
  await Promise.all(Array.from({ length: clients }, async (_, w) => {
    for (let i = 0; Date.now() < end; i++) {
      const r = await call(url, 'POST', '/api/v1/namespaces/bench-w/configmaps', configMap(`w-${round}-${w}-${i}`), agent)
      if (r.status === 201) ok++
      else failed++
    }
  }))
  return { rate: ok / (Number(process.hrtime.bigint() - t) / 1e9), failed }
}

/** The write load in its own process (api-load-child.ts) on `cpu`: one `round` at a time. */
async function startWriteLoad(url: string, clients: number, cpu: string | undefined): Promise<{ round: (r: number, ms: number) => Promise<{ rate: number; failed: number }>; child: ChildProcess }> {
  const script = fileURLToPath(new URL('./api-load-child.js', import.meta.url))
  const child = spawnTracked(process.execPath, [script, url, String(clients)], { stdin: 'pipe', ...(cpu !== undefined ? { cpus: cpu } : {}) })
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  const nextLine = async (): Promise<string> => {
    const l = await lines.next()
    if (l.done) throw new Error(`api-load-child exited: ${stderrOf(child).slice(-300)}`)
    return l.value
  }
  await nextLine()
  return {
    child,
    round: async (r, ms) => {
      child.stdin!.write(`${r} ${ms}\n`)
      const answer = JSON.parse(await nextLine()) as { rate: number; failed: number; error?: string }
      if (answer.error) throw new Error(`api-load-child: ${answer.error}`)
      return answer
    },
  }
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}

/** 100 watchers on one namespace; paced creates; delay = event arrival − the create's send time. */
async function watchRound(url: string, round: number, watchers: number, writes: number, paceMs: number): Promise<{ p99: number; p50: number; missing: number }> {
  const ns = `bench-x${round}`
  await createNamespace(url, ns)
  const sent = new Map<string, bigint>()
  const delays: number[] = []
  const seen: number[] = Array.from({ length: watchers }, () => 0)
  const responses: IncomingMessage[] = []
  let sentinelSeen = 0
  await Promise.all(Array.from({ length: watchers }, (_, w) => new Promise<void>((resolve, reject) => {
    const req = request(`${url}/api/v1/namespaces/${ns}/configmaps?watch=true`, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`watch: HTTP ${res.statusCode}`))
      responses.push(res)
      res.setEncoding('utf8')
      let buf = ''
      res.on('data', (chunk: string) => {
        const at = process.hrtime.bigint()
        buf += chunk
        let nl: number
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl)
          buf = buf.slice(nl + 1)
          // The name is the first "name" in the event (metadata.name); no full parse on the hot path.
          const name = /"name":"([^"]+)"/.exec(line)?.[1]
          if (name === 'sentinel') sentinelSeen++
          const t0 = name === undefined ? undefined : sent.get(name)
          if (t0 !== undefined) {
            delays.push(Number(at - t0) / 1e6)
            seen[w]!++
          }
        }
      })
      resolve()
    })
    req.on('error', reject)
    req.end()
  })))
  try {
    // Every watch is registered once all of them have seen one write.
    await call(url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('sentinel'), false)
    for (const end = Date.now() + 10_000; sentinelSeen < watchers && Date.now() < end;) await new Promise((r) => setTimeout(r, 10))
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    for (let i = 0; i < writes; i++) {
      const name = `x-${i}`
      const next = Date.now() + paceMs
      sent.set(name, process.hrtime.bigint())
      const r = await call(url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(name), agent)
      if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.body.slice(0, 200)}`)
      const wait = next - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    }
    agent.destroy()
    for (const end = Date.now() + 5_000; delays.length < watchers * writes && Date.now() < end;) await new Promise((r) => setTimeout(r, 10))
    return { p99: percentile(delays, 99), p50: percentile(delays, 50), missing: watchers * writes - delays.length }
  } finally {
    for (const r of responses) r.destroy()
  }
}

export async function apiBenchmarks(opts: { rounds: number; quick: boolean; profileDir?: string }): Promise<Figure[]> {
  const rounds = opts.quick ? 2 : Math.max(5, Math.min(opts.rounds, 5))
  const dir = mkdtempSync(join(tmpdir(), 'kpe-bench-api-'))
  const cpu = cores()
  let child: ChildProcess | undefined
  let load: ChildProcess | undefined
  try {
    const api = await startApi(join(dir, 'data'), cpu.proxy, opts.profileDir)
    child = api.child
    await createNamespace(api.url, 'bench-w')
    const clients = 32
    const writes = await startWriteLoad(api.url, clients, cpu.load)
    load = writes.child
    await writes.round(-1, 500) // warm up
    const rates: number[] = []
    const syncs: number[] = []
    let failed = 0
    for (let r = 0; r < rounds; r++) {
      const w = await writes.round(r, opts.quick ? 1500 : 3000)
      rates.push(w.rate)
      failed += w.failed
      syncs.push(fdatasyncRate(dir, opts.quick ? 300 : 1000))
    }
    await stopProcess(load)
    const watches: { p99: number; p50: number; missing: number }[] = []
    for (let r = 0; r < rounds; r++) watches.push(await watchRound(api.url, r, 100, opts.quick ? 20 : 50, 20))
    const missing = watches.reduce((a, w) => a + w.missing, 0)
    return [
      figure('api.writes.per_s', median(rates), 'creates/s', median(syncs), { goal: '>= 2000', note: `${clients} keep-alive clients (own process, other core), ConfigMap POST, durable store; baseline: fdatasync/s of 1 KiB appends in the same dir${failed ? `; ${failed} failed` : ''}` }),
      figure('api.watch.p99.ms', median(watches.map((w) => w.p99)), 'ms', null, { goal: '<= 50 ms', note: `100 chunked watchers, ${opts.quick ? 20 : 50} creates/round every 20 ms, from send to event; p50 ${median(watches.map((w) => w.p50)).toFixed(1)} ms${missing ? `; ${missing} events missing` : ''}` }),
    ]
  } finally {
    if (load) await stopProcess(load)
    if (child) await stopProcess(child)
    rmSync(dir, { recursive: true, force: true })
  }
}
