/**
 * Kernel dataplane benchmarks, rootless, same run: a one-node `kpe lab up --rootless` whose pod
 * runs iperf3 and nginx behind a NodePort Service loaded as kube-proxy's iptables rules.
 * In the namespaces: a client pod to the ClusterIP (DNAT) versus to the pod IP. From the host:
 * loopback through the hand-in hop (bench/kernel-hand-in-child.ts) to the NodePort, versus
 * HAProxy on loopback to the same kind of backend on loopback. Configurations take turns in each
 * round; every process started here is stopped by PID and the lab is taken down at the end.
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { nsenterArgv, rootlessUnavailable, type LabState } from '../src/lab/index.js'
import { handInSources } from '../src/netns/index.js'
import { figure, median, type Figure } from './figures.js'
import { cores, haproxyConf, iperf, nginxConf, roundRobin, skipped, wrk } from './peers.js'
import { ensureTools, freePort, runToEnd, sleep, spawnTracked, stderrOf, stopProcess, waitForPort } from './procs.js'

export interface KernelOptions {
  readonly rounds: number
  readonly quick: boolean
}

const names = ['kernel.bulk.vs_direct', 'kernel.newconn.vs_direct', 'kernel.handin.bulk.vs_haproxy', 'kernel.handin.newconn.vs_haproxy']
const nodeIP = '192.168.77.10'
const podIP = '10.244.0.2'
const clusterIP = '10.96.0.50'
const port = { http: 8080, iperf: 5201, httpNode: 30080, iperfNode: 30201 }

/** One node, one pod serving HTTP (nginx) and iperf3, one NodePort Service in front of both. */
const manifest = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: 10.244.0.0/16
detectLocalMode: ClusterCIDR
---
apiVersion: v1
kind: Node
metadata: { name: node-a, labels: { kubernetes.io/hostname: node-a } }
spec: { podCIDR: 10.244.0.0/24, podCIDRs: [10.244.0.0/24] }
status:
  addresses: [{ type: InternalIP, address: ${nodeIP} }]
  conditions: [{ type: Ready, status: "True" }]
---
apiVersion: v1
kind: Pod
metadata: { name: bench-server, namespace: default, labels: { app: bench } }
spec:
  nodeName: node-a
  containers:
  - name: server
    image: nginx
    ports: [{ name: http, containerPort: ${port.http} }, { name: iperf, containerPort: ${port.iperf} }]
status:
  phase: Running
  podIP: ${podIP}
  podIPs: [{ ip: ${podIP} }]
  conditions: [{ type: Ready, status: "True" }]
---
apiVersion: v1
kind: Service
metadata: { name: bench, namespace: default }
spec:
  type: NodePort
  clusterIP: ${clusterIP}
  selector: { app: bench }
  ports:
  - { name: http, port: 80, targetPort: http, nodePort: ${port.httpNode} }
  - { name: iperf, port: ${port.iperf}, targetPort: iperf, nodePort: ${port.iperfNode} }
`

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))

async function labCli(args: readonly string[], stateRoot: string): Promise<void> {
  const child = spawnTracked(process.execPath, [cli, 'lab', ...args], { env: { ...process.env, KPE_LAB_STATE_DIR: stateRoot } })
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`kpe lab ${args.join(' ')}: exit ${code}: ${stderrOf(child).trim()}`)
}

/** Polls `ss` inside a namespace until something listens on the TCP port. */
async function waitInNamespace(holder: number, tcpPort: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server for port ${tcpPort} exited before listening: ${stderrOf(child).trim()}`)
    const [cmd, ...args] = nsenterArgv(holder, ['ss', '-Hltn'])
    const out = await runToEnd(cmd!, args, { timeoutMs: 5000 })
    if (out.includes(`:${tcpPort} `)) return
    await sleep(50)
  }
  throw new Error(`nothing listens on port ${tcpPort} in the pod namespace`)
}

export async function kernelBenchmarks(opts: KernelOptions): Promise<Figure[]> {
  const why = rootlessUnavailable() ?? ensureTools(['iperf3', 'wrk', 'nginx', 'haproxy', 'conntrack', 'iptables-nft', 'nsenter', 'setpriv', 'ss'])
  if (why) return skipped(names, 'ratio', 'reported', why)
  const rounds = opts.quick ? 2 : Math.max(3, Math.min(opts.rounds, 5))
  const seconds = opts.quick ? 2 : 5
  const c = cores()
  const load = c.load
  const dir = mkdtempSync(join(tmpdir(), 'kpe-bench-kernel-'))
  const stateRoot = join(dir, 'labs')
  const prefix = `kb${process.pid % 100000}`.slice(0, 8)
  const started: ChildProcess[] = []
  let isLabUp = false
  try {
    writeFileSync(join(dir, 'bench.yaml'), manifest)
    isLabUp = true
    await labCli(['up', '-f', join(dir, 'bench.yaml'), '--name', prefix, '--rootless'], stateRoot)
    const state = JSON.parse(readFileSync(join(stateRoot, prefix, 'state.json'), 'utf8')) as LabState
    const plan = state.plan!
    const holders = state.rootless!.holders
    const serverNs = plan.pods.find((p) => p.key === 'default/bench-server')!.netns
    const clientNs = plan.pods.find((p) => p.isClient)!.netns
    const inClient = nsenterArgv(holders[clientNs]!, [])
    const inServer = (argv: readonly string[]): string[] => nsenterArgv(holders[serverNs]!, argv)

    // The lab's own pod server holds the pod's ports: this pod serves iperf3 and nginx instead.
    for (const p of state.processes.filter((x) => x.pod === 'default/bench-server')) process.kill(p.pid, 'SIGTERM')
    await sleep(200)
    // No TIME_WAIT sockets in the pod: under a close-heavy load the client's reused ports would
    // otherwise collide with them on the direct path only (the ClusterIP path's DNAT remaps a
    // clashing source port), a 5x slowdown that measures port reuse, not the DNAT.
    const [sysctl, ...sysctlArgs] = inServer(['sysctl', '-qw', 'net.ipv4.tcp_max_tw_buckets=0'])
    await runToEnd(sysctl!, sysctlArgs, { timeoutMs: 5000 })
    // In the user namespace only uid 0 is mapped: nginx must neither switch users nor chown its default temp paths.
    const tempPaths = ['fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/pod-${t};`).join(' ')
    const podNginx = nginxConf(dir, 'pod', `listen 0.0.0.0:${port.http}; location / { return 200 "hello from the backend\\n"; }`, tempPaths, 'user root root;\n')
    const podServers = [
      { port: port.iperf, argv: inServer(['iperf3', '-s', '-p', String(port.iperf)]) },
      { port: port.http, argv: inServer(['nginx', '-c', podNginx, '-p', dir, '-e', join(dir, 'pod-startup.log')]) },
    ]
    for (const s of podServers) {
      const child = spawnTracked(s.argv[0]!, s.argv.slice(1), load !== undefined ? { cpus: load } : {})
      started.push(child)
      await waitInNamespace(holders[serverNs]!, s.port, child)
    }

    // Host side: HAProxy to loopback backends, and the hop to the NodePorts, both on the proxy core.
    const ports = { iperf: await freePort(), nginx: await freePort(), haBulk: await freePort(), haHttp: await freePort(), hopBulk: await freePort(), hopHttp: await freePort() }
    const onLoad = load !== undefined ? { cpus: load } : {}
    const onProxy = c.proxy !== undefined ? { cpus: c.proxy } : {}
    const hostIperf = spawnTracked('iperf3', ['-s', '-B', '127.0.0.1', '-p', String(ports.iperf)], onLoad)
    const hostNginx = spawnTracked('nginx', ['-c', nginxConf(dir, 'host', `listen 127.0.0.1:${ports.nginx}; location / { return 200 "hello from the backend\\n"; }`), '-p', dir, '-e', join(dir, 'host-startup.log')], onLoad)
    const haproxy = spawnTracked('haproxy', ['-f', haproxyConf(dir, [{ listen: ports.haBulk, to: ports.iperf }, { listen: ports.haHttp, to: ports.nginx }]), '-db'], onProxy)
    started.push(hostIperf, hostNginx, haproxy)
    const spec = {
      topology: { rootless: true, outsideHolder: holders[plan.external.netns]!, nodeHolders: plan.nodes.map((n) => [n.name, holders[n.netns]!]), sources: [...handInSources(plan)] },
      routes: [
        { listen: ports.hopBulk, node: 'node-a', host: nodeIP, port: port.iperfNode },
        { listen: ports.hopHttp, node: 'node-a', host: nodeIP, port: port.httpNode },
      ],
    }
    const hop = spawnTracked(process.execPath, [fileURLToPath(new URL('./kernel-hand-in-child.js', import.meta.url)), JSON.stringify(spec)], onProxy)
    started.push(hop)
    await new Promise<void>((resolve, reject) => {
      hop.once('exit', (code) => reject(new Error(`kernel-hand-in-child exited (${code})`)))
      createInterface({ input: hop.stdout! }).once('line', () => resolve())
    })
    for (const [p, child] of [[ports.iperf, hostIperf], [ports.nginx, hostNginx], [ports.haHttp, haproxy], [ports.hopHttp, hop]] as const) await waitForPort(p, child)

    const close = ['-H', 'Connection: close']
    const runs = {
      'bulk-clusterip': () => iperf(port.iperf, seconds, load, clusterIP, inClient).then((r) => r.bps / 1e9),
      'bulk-direct': () => iperf(port.iperf, seconds, load, podIP, inClient).then((r) => r.bps / 1e9),
      'newconn-clusterip': () => sleep(200).then(() => wrk(`http://${clusterIP}/`, seconds, load, close, inClient)).then((r) => r.rps),
      'newconn-direct': () => sleep(200).then(() => wrk(`http://${podIP}:${port.http}/`, seconds, load, close, inClient)).then((r) => r.rps),
      'bulk-handin': () => iperf(ports.hopBulk, seconds, load).then((r) => r.bps / 1e9),
      'bulk-haproxy': () => iperf(ports.haBulk, seconds, load).then((r) => r.bps / 1e9),
      'newconn-handin': () => sleep(200).then(() => wrk(`http://127.0.0.1:${ports.hopHttp}/`, seconds, load, close)).then((r) => r.rps),
      'newconn-haproxy': () => sleep(200).then(() => wrk(`http://127.0.0.1:${ports.haHttp}/`, seconds, load, close)).then((r) => r.rps),
    }
    type Run = keyof typeof runs
    const keys = Object.keys(runs) as Run[]
    // Warm up each path once (ARP, conntrack, the hop's follower) before anything is timed.
    await iperf(port.iperf, 1, load, clusterIP, inClient)
    for (const k of keys.filter((x) => x.startsWith('newconn'))) await runs[k]()
    const results = await roundRobin(keys, rounds, (k) => runs[k]())
    const m = (k: Run): number => median(results[k])
    const common = `${rounds} rounds of ${seconds} s, rootless lab, iptables mode`
    return [
      figure('kernel.bulk.vs_direct', m('bulk-clusterip'), 'Gbit/s', m('bulk-direct'), { goal: 'reported', note: `iperf3 single stream, client pod -> ClusterIP (DNAT) vs -> pod IP; ${common}` }),
      figure('kernel.newconn.vs_direct', m('newconn-clusterip'), 'req/s', m('newconn-direct'), { goal: 'reported', note: `wrk -t1 -c32 Connection: close, client pod -> ClusterIP vs -> pod IP, nginx in the pod; ${common}` }),
      figure('kernel.handin.bulk.vs_haproxy', m('bulk-handin'), 'Gbit/s', m('bulk-haproxy'), { goal: 'reported', note: `iperf3 from the host: loopback -> hand-in hop -> NodePort -> pod, vs HAProxy on loopback -> iperf3 on loopback; ${common}` }),
      figure('kernel.handin.newconn.vs_haproxy', m('newconn-handin'), 'req/s', m('newconn-haproxy'), { goal: 'reported', note: `wrk Connection: close from the host through the hop (agent dial + conntrack follower per connection) vs HAProxy; ${common}` }),
    ]
  } finally {
    await Promise.all(started.map((p) => stopProcess(p)))
    if (isLabUp) await labCli(['down', '--name', prefix], stateRoot).catch((e: unknown) => process.stderr.write(`kpe bench: kpe lab down --name ${prefix} failed: ${String(e)}\n`))
    rmSync(dir, { recursive: true, force: true })
  }
}
