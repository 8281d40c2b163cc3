/**
 * Proxy benchmarks against real peers, same run, same machine: kpe's userspace dataplane (a child
 * process, kpe-proxy-child.ts) beside HAProxy (mode tcp, one thread), socat and nginx. Load
 * generator and backend share one core, every proxy gets the other; configurations take turns
 * within each round. Every server binds 127.0.0.1; every process started here is stopped by PID.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { figure, median, type Figure } from './figures.js'
import { ensureTools, freePort, procCpuSeconds, runToEnd, sleep, spawnTracked, stopProcess, waitForPort } from './procs.js'

export interface PeerOptions {
  readonly rounds: number
  readonly quick: boolean
  /** Run kpe's children with --cpu-prof into this directory. */
  readonly profileDir?: string
}

/** Load generator + backend on one core, the proxy under test on the other (when there are two). */
export function cores(): { load?: string; proxy?: string } {
  const n = cpus().length
  return n >= 2 ? { load: '0', proxy: String(n - 1) } : {}
}

interface KpeChild {
  readonly child: ChildProcess
  readonly nodePorts: readonly number[]
  readonly httpProxy: number
  readonly clusterIPs: readonly string[]
  /** process.cpuUsage() of the child, in seconds (user + system). */
  cpuSeconds(): Promise<number>
}

async function startKpe(pairs: readonly { backend: number; nodePort: number }[], cpu: string | undefined, profileDir: string | undefined): Promise<KpeChild> {
  const script = fileURLToPath(new URL('./kpe-proxy-child.js', import.meta.url))
  const prof = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const child = spawnTracked(process.execPath, [...prof, script, ...pairs.flatMap((p) => [String(p.backend), String(p.nodePort)])], { stdin: 'pipe', ...(cpu !== undefined ? { cpus: cpu } : {}) })
  const lines = createInterface({ input: child.stdout! })
  const waiters: ((line: string) => void)[] = []
  lines.on('line', (l) => waiters.shift()?.(l))
  const nextLine = (timeoutMs: number): Promise<string> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kpe-proxy-child: no answer in ${timeoutMs} ms`)), timeoutMs)
    const onExit = (): void => reject(new Error(`kpe-proxy-child exited (${child.exitCode ?? child.signalCode})`))
    child.once('exit', onExit)
    waiters.push((l) => { clearTimeout(timer); child.off('exit', onExit); resolve(l) })
  })
  const ready = JSON.parse(await nextLine(30_000)) as { nodePorts: number[]; httpProxy: number; clusterIPs: string[] }
  return {
    child, nodePorts: ready.nodePorts, httpProxy: ready.httpProxy, clusterIPs: ready.clusterIPs,
    async cpuSeconds() {
      const answer = nextLine(5000)
      child.stdin!.write('cpu\n')
      const { cpu } = JSON.parse(await answer) as { cpu: { user: number; system: number } }
      return (cpu.user + cpu.system) / 1e6
    },
  }
}

export function nginxConf(dir: string, name: string, server: string, upstream = '', head = ''): string {
  const conf = join(dir, `${name}.conf`)
  writeFileSync(conf, `${head}worker_processes 1;
master_process off;
daemon off;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_body_temp_path ${dir}/${name}-body;
  proxy_temp_path ${dir}/${name}-proxy;
  ${upstream}
  server {
    ${server}
  }
}
`)
  return conf
}

export function haproxyConf(dir: string, routes: readonly { listen: number; to: number }[]): string {
  const conf = join(dir, 'haproxy.cfg')
  writeFileSync(conf, [
    'global', '  nbthread 1', '  maxconn 8192',
    'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 120s', '  timeout server 120s',
    ...routes.flatMap((r, i) => [`frontend f${i}`, `  bind 127.0.0.1:${r.listen}`, `  default_backend b${i}`, `backend b${i}`, `  server s${i} 127.0.0.1:${r.to}`]),
    '',
  ].join('\n'))
  return conf
}

interface IperfResult { readonly bps: number; readonly bytes: number }

/** `inside`: an argv prefix that runs the client elsewhere (nsenter into a lab namespace). */
export async function iperf(port: number, seconds: number, cpu: string | undefined, host = '127.0.0.1', inside: readonly string[] = []): Promise<IperfResult> {
  const argv = [...inside, 'iperf3', '-c', host, '-p', String(port), '-t', String(seconds), '-J']
  const out = await runToEnd(argv[0]!, argv.slice(1), { timeoutMs: (seconds + 15) * 1000, ...(cpu !== undefined ? { cpus: cpu } : {}) })
  const j = JSON.parse(out) as { end?: { sum_received?: { bits_per_second: number; bytes: number } }; error?: string }
  if (!j.end?.sum_received) throw new Error(`iperf3 through port ${port}: ${j.error ?? 'no result'}`)
  return { bps: j.end.sum_received.bits_per_second, bytes: j.end.sum_received.bytes }
}

interface WrkResult { readonly rps: number; readonly errors: string }

export async function wrk(url: string, seconds: number, cpu: string | undefined, extra: readonly string[] = [], inside: readonly string[] = []): Promise<WrkResult> {
  const argv = [...inside, 'wrk', '-t1', '-c32', `-d${seconds}s`, '--timeout', '5s', ...extra, url]
  const out = await runToEnd(argv[0]!, argv.slice(1), { timeoutMs: (seconds + 15) * 1000, ...(cpu !== undefined ? { cpus: cpu } : {}) })
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out)
  if (!m) throw new Error(`wrk ${url}: no Requests/sec in output: ${out.slice(-300)}`)
  const errs = [/Socket errors:[^\n]*/.exec(out)?.[0], /Non-2xx or 3xx responses:[^\n]*/.exec(out)?.[0]].filter((x) => x !== undefined).join('; ')
  return { rps: Number(m[1]), errors: errs }
}

/** Runs each configuration once per round, starting at a different one each round. */
export async function roundRobin<K extends string, T>(keys: readonly K[], rounds: number, run: (k: K) => Promise<T>): Promise<Record<K, T[]>> {
  const out = Object.fromEntries(keys.map((k) => [k, [] as T[]])) as Record<K, T[]>
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(r + i) % keys.length]!
      out[k].push(await run(k))
    }
  }
  return out
}

export const skipped = (names: readonly string[], unit: string, goal: string, why: string): Figure[] => names.map((n) => figure(n, null, unit, null, { goal, note: `skipped: ${why}` }))

export async function peerBenchmarks(opts: PeerOptions): Promise<Figure[]> {
  const rounds = opts.quick ? 2 : Math.max(5, Math.min(opts.rounds, 5))
  const bulkSeconds = opts.quick ? 2 : 5
  const httpSeconds = opts.quick ? 2 : 5
  const c = cores()
  const dir = mkdtempSync(join(tmpdir(), 'kpe-bench-peers-'))
  const started: ChildProcess[] = []
  const figures: Figure[] = []
  try {
    const missing = ensureTools(['iperf3', 'haproxy', 'socat', 'nginx', 'wrk'])
    const bulkMissing = ensureTools(['iperf3', 'haproxy', 'socat'])
    const httpMissing = ensureTools(['nginx', 'wrk', 'haproxy'])
    if (missing) process.stderr.write(`kpe bench: ${missing}\n`)

    // Backends (load core): an iperf3 server and an nginx answering a small static body.
    const ports = { iperf: await freePort(), nginx: await freePort(), kpeBulk: await freePort(), kpeHttp: await freePort(), haBulk: await freePort(), haHttp: await freePort(), socat: await freePort(), reverse: await freePort(), httpProxy3: await freePort() }
    const load = c.load !== undefined ? { cpus: c.load } : {}
    const onProxy = c.proxy !== undefined ? { cpus: c.proxy } : {}
    if (!bulkMissing) {
      const s = spawnTracked('iperf3', ['-s', '-B', '127.0.0.1', '-p', String(ports.iperf)], load)
      started.push(s)
      await waitForPort(ports.iperf, s)
    }
    if (!httpMissing) {
      const conf = nginxConf(dir, 'backend', `listen 127.0.0.1:${ports.nginx}; location / { return 200 "hello from the backend\\n"; }`)
      const s = spawnTracked('nginx', ['-c', conf, '-p', dir, '-e', join(dir, 'backend-startup.log')], load)
      started.push(s)
      await waitForPort(ports.nginx, s)
    }

    // Proxies (proxy core).
    const kpe = await startKpe([{ backend: ports.iperf, nodePort: ports.kpeBulk }, { backend: ports.nginx, nodePort: ports.kpeHttp }], c.proxy, opts.profileDir)
    started.push(kpe.child)
    let haproxy: ChildProcess | undefined
    if (!ensureTools(['haproxy'])) {
      haproxy = spawnTracked('haproxy', ['-f', haproxyConf(dir, [{ listen: ports.haBulk, to: ports.iperf }, { listen: ports.haHttp, to: ports.nginx }]), '-db'], onProxy)
      started.push(haproxy)
      await waitForPort(ports.haHttp, haproxy)
    }
    if (!bulkMissing) {
      const s = spawnTracked('socat', [`TCP-LISTEN:${ports.socat},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${ports.iperf}`], onProxy)
      started.push(s)
      await waitForPort(ports.socat, s)
    }
    if (!httpMissing) {
      const conf = nginxConf(dir, 'reverse',
        `listen 127.0.0.1:${ports.reverse}; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }`,
        `upstream backend { server 127.0.0.1:${ports.nginx}; keepalive 32; }`)
      const s = spawnTracked('nginx', ['-c', conf, '-p', dir, '-e', join(dir, 'reverse-startup.log')], onProxy)
      started.push(s)
      await waitForPort(ports.reverse, s)
      const hp3 = spawnTracked(process.execPath, [fileURLToPath(new URL('./http-proxy3-child.js', import.meta.url)), String(ports.nginx), String(ports.httpProxy3)], onProxy)
      started.push(hp3)
      await waitForPort(ports.httpProxy3, hp3)
    }

    figures.push(...(bulkMissing
      ? skipped(['tcp.bulk.vs_haproxy', 'tcp.bulk.vs_socat', 'tcp.cpu_per_gb.vs_haproxy'], 'ratio', '', bulkMissing)
      : await bulk({ kpe, haproxy: haproxy!, ports, rounds, seconds: bulkSeconds, load: c.load })))
    figures.push(...(httpMissing
      ? skipped(['tcp.keepalive.vs_haproxy', 'tcp.newconn.vs_haproxy', 'http.forward.vs_nginx', 'http.forward.vs_http_proxy_3'], 'ratio', '', httpMissing)
      : await http({ kpe, ports, rounds, seconds: httpSeconds, load: c.load, dir })))
    return figures
  } finally {
    await Promise.all(started.map((p) => stopProcess(p)))
    rmSync(dir, { recursive: true, force: true })
  }
}

async function bulk(o: { kpe: KpeChild; haproxy: ChildProcess; ports: Record<string, number>; rounds: number; seconds: number; load: string | undefined }): Promise<Figure[]> {
  const port = { kpe: o.ports['kpeBulk']!, haproxy: o.ports['haBulk']!, socat: o.ports['socat']! }
  const cpu = { kpe: () => o.kpe.cpuSeconds(), haproxy: async () => procCpuSeconds(o.haproxy.pid!), socat: async () => 0 }
  for (const k of ['kpe', 'haproxy', 'socat'] as const) await iperf(port[k], 1, o.load) // warm up
  const results = await roundRobin(['kpe', 'haproxy', 'socat'] as const, o.rounds, async (k) => {
    const before = await cpu[k]()
    const r = await iperf(port[k], o.seconds, o.load)
    const cpuS = (await cpu[k]()) - before
    return { gbps: r.bps / 1e9, cpuPerGB: cpuS / (r.bytes / 1e9) }
  })
  const gbps = (k: 'kpe' | 'haproxy' | 'socat'): number => median(results[k].map((r) => r.gbps))
  const cpg = (k: 'kpe' | 'haproxy'): number => median(results[k].map((r) => r.cpuPerGB))
  const note = `iperf3 single stream ${o.seconds} s, ${o.rounds} rounds; kpe ${gbps('kpe').toFixed(2)} Gbit/s`
  return [
    figure('tcp.bulk.vs_haproxy', gbps('kpe'), 'Gbit/s', gbps('haproxy'), { goal: '>= 1.0', note }),
    figure('tcp.bulk.vs_socat', gbps('kpe'), 'Gbit/s', gbps('socat'), { goal: '>= 1.2', note: `socat fork, default 8 KiB buffer` }),
    figure('tcp.cpu_per_gb.vs_haproxy', cpg('kpe'), 'cpu s/GB', cpg('haproxy'), { goal: '<= 1.0', note: 'kpe: process.cpuUsage; haproxy: /proc/PID/stat' }),
  ]
}

async function http(o: { kpe: KpeChild; ports: Record<string, number>; rounds: number; seconds: number; load: string | undefined; dir: string }): Promise<Figure[]> {
  const script = join(o.dir, 'forward.lua')
  // Absolute-URI requests to the Service's ClusterIP, as a client configured with a proxy sends them.
  writeFileSync(script, `wrk.path = "http://${o.kpe.clusterIPs[1]}:80/"\n`)
  const run = (url: string, extra: readonly string[] = []): Promise<WrkResult> => wrk(url, o.seconds, o.load, extra)
  const urls = {
    kpe: `http://127.0.0.1:${o.ports['kpeHttp']}/`,
    haproxy: `http://127.0.0.1:${o.ports['haHttp']}/`,
    forward: `http://127.0.0.1:${o.kpe.httpProxy}/`,
    nginx: `http://127.0.0.1:${o.ports['reverse']}/`,
    httpProxy3: `http://127.0.0.1:${o.ports['httpProxy3']}/`,
  }
  const close = ['-H', 'Connection: close']
  const fwd = ['-s', script]
  for (const [u, extra] of [[urls.kpe, []], [urls.haproxy, []], [urls.forward, fwd], [urls.nginx, []], [urls.httpProxy3, fwd]] as const) await wrk(u, 1, o.load, extra) // warm up
  const results = await roundRobin(['kpe-ka', 'haproxy-ka', 'kpe-close', 'haproxy-close', 'kpe-forward', 'nginx-reverse', 'http-proxy-3-forward'] as const, o.rounds, async (k) => {
    switch (k) {
      case 'kpe-ka': return run(urls.kpe)
      case 'haproxy-ka': return run(urls.haproxy)
      case 'kpe-close': await sleep(200); return run(urls.kpe, close)
      case 'haproxy-close': await sleep(200); return run(urls.haproxy, close)
      case 'kpe-forward': return run(urls.forward, fwd)
      case 'nginx-reverse': return run(urls.nginx)
      case 'http-proxy-3-forward': return run(urls.httpProxy3, fwd)
    }
  })
  const rps = (k: keyof typeof results): number => median(results[k].map((r) => r.rps))
  const errs = (ks: (keyof typeof results)[]): string => {
    const e = ks.flatMap((k) => results[k].map((r) => r.errors).filter((x) => x !== '').map((x) => `${k}: ${x}`))
    return e.length ? `; errors: ${[...new Set(e)].join(' | ')}` : ''
  }
  const common = `wrk -t1 -c32 ${o.seconds} s, ${o.rounds} rounds`
  return [
    figure('tcp.keepalive.vs_haproxy', rps('kpe-ka'), 'req/s', rps('haproxy-ka'), { goal: '>= 0.9', note: `${common}, backend nginx${errs(['kpe-ka', 'haproxy-ka'])}` }),
    figure('tcp.newconn.vs_haproxy', rps('kpe-close'), 'req/s', rps('haproxy-close'), { goal: '>= 0.6', note: `${common}, Connection: close${errs(['kpe-close', 'haproxy-close'])}` }),
    figure('http.forward.vs_nginx', rps('kpe-forward'), 'req/s', rps('nginx-reverse'), { goal: '>= 0.5', note: `${common}, absolute URI; nginx upstream keepalive 32${errs(['kpe-forward', 'nginx-reverse'])}` }),
    // Not an issue goal: the measurement behind building the forward proxy at L4 rather than on http-proxy-3.
    figure('http.forward.vs_http_proxy_3', rps('kpe-forward'), 'req/s', rps('http-proxy-3-forward'), { goal: 'reported', note: `${common}, absolute URI; http-proxy-3 with a keep-alive agent, fixed upstream${errs(['http-proxy-3-forward'])}` }),
  ]
}
