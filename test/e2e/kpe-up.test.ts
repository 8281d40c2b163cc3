/**
 * `kpe up` as a user runs it: the real CLI process on fixtures/demo.yaml (every port 0, node
 * addresses on a private loopback prefix), then real curl through a NodePort, SOCKS5 and the
 * HTTP proxy, `kpe rules --live`, `kpe connections`, /metrics, and a clean stop on SIGINT.
 * Only loopback addresses are ever dialled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runKpe } from '../helpers/cli.js'
import { livePods, run, startKpeUp, type KpeUp } from './kpe-up-process.js'

let up: KpeUp
let summary = ''
let prefix = ''
let dataDir = ''

/** curl with an empty proxy environment (proxies only when a test names one), bounded. */
const curl = async (args: string[]): Promise<{ code: number; out: string }> => {
  const r = await run('curl', ['-s', '--max-time', '3', ...args], 5_000)
  return { code: r.code, out: r.stdout }
}

beforeAll(async () => {
  up = await startKpeUp()
  ;({ summary, prefix, dataDir } = up)
}, 40_000)

afterAll(async () => {
  if (up.child.exitCode === null) up.child.kill('SIGKILL')
})

const port = (pattern: RegExp): string => pattern.exec(summary)![1]!

describe('kpe up on the demo cluster', () => {
  it('prints nodes, services with their addresses and ready endpoints, and commands to try', () => {
    expect(summary).toMatch(/node-a\s+192\.168\.77\.10\s+10\.244\.0\.0\/24/)
    expect(summary).toMatch(/default\/web\s+NodePort\s+10\.96\.0\.100\s+-\s+80:30080\/TCP\s+3/)
    expect(summary).toMatch(/default\/echo-lb\s+LoadBalancer\s+10\.96\.0\.104\s+192\.168\.77\.200/)
    expect(summary).toMatch(/default\/empty\s+NodePort.*\s0$/m)
  })

  it('a NodePort spreads requests over the ready pods', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 30 && seen.size < 3; i++) seen.add((await curl([`http://${prefix}1:30080/hostname`])).out)
    expect([...seen].sort()).toEqual((await livePods(up, 'app=web')).map((p) => p.name).sort())
  })

  it('runs the workloads as Deployments, placed as the demo tells: web one per node, echo off node-c', async () => {
    const deployments = await up.kubectl('get', 'deployments', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.readyReplicas} {end}')
    expect(deployments.stdout.trim().split(' ').sort()).toEqual(['echo=2', 'web=3'])
    const web = await livePods(up, 'app=web')
    expect(web.map((p) => p.node)).toEqual(['node-a', 'node-b', 'node-c'])
    for (const p of web) expect(p.name).toMatch(/^web-[a-z0-9]{6,10}-[a-z0-9]{5}$/)
    expect((await livePods(up, 'app=echo')).map((p) => p.node)).toEqual(['node-a', 'node-b'])
  })

  it('SOCKS5 with a service DNS name, and the HTTP proxy with a ClusterIP, reach the pods', async () => {
    const socks = await curl(['--socks5-hostname', `127.0.0.1:${port(/--socks5-hostname 127\.0\.0\.1:(\d+)/)}`, 'http://web.default.svc.cluster.local/hostname'])
    expect(socks.out).toMatch(/^web-/)
    const http = await curl(['-x', `http://127.0.0.1:${port(/curl -x http:\/\/127\.0\.0\.1:(\d+)/)}`, 'http://10.96.0.100/hostname'])
    expect(http.out).toMatch(/^web-/)
  })

  it('a service without endpoints refuses at once', async () => {
    const res = await curl([`http://${prefix}1:30082/`])
    expect([7, 52, 56]).toContain(res.code)
  })

  it('kpe rules --live prints the node\'s current rules; kpe connections lists the decisions', async () => {
    const live = await runKpe(['rules', '--live', '--node', 'node-b', '--data-dir', dataDir])
    expect(live.code).toBe(0)
    expect(live.stdout).toContain('-A KUBE-SERVICES -d 10.96.0.100/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-')
    const conns = await runKpe(['connections', '--data-dir', dataDir, '-o', 'json'])
    const records = JSON.parse(conns.stdout) as { verdict: string; node: string }[]
    expect(records.some((r) => r.verdict === 'forward')).toBe(true)
    expect(records.some((r) => r.verdict === 'reject')).toBe(true)
  })

  it('serves kube-proxy sync metrics', async () => {
    const url = /curl (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(summary)![1]!
    const res = await fetch(`${url}/metrics`)
    const text = await res.text()
    expect(text).toMatch(/^kubeproxy_sync_full_proxy_rules_total\{node="node-c"\} [1-9]/m)
    expect(text.match(/^# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram$/gm)).toHaveLength(1)
  })

  it('answers LoadBalancer health checks per node: 200 with local endpoints, 503 on node-c', async () => {
    const health = async (n: number) => {
      const r = await run('curl', ['-s', '--max-time', '3', '-w', '\n%{http_code}', `http://${prefix}${n}:32081/`], 5_000)
      const [body, code] = [r.stdout.slice(0, r.stdout.lastIndexOf('\n')), r.stdout.slice(r.stdout.lastIndexOf('\n') + 1)]
      return { code, body: JSON.parse(body) as { localEndpoints: number; serviceProxyHealthy: boolean } }
    }
    expect(await health(1)).toEqual({ code: '200', body: { service: { namespace: 'default', name: 'echo-lb' }, localEndpoints: 1, serviceProxyHealthy: true } })
    expect((await health(3)).code).toBe('503')
    expect((await health(3)).body.localEndpoints).toBe(0)
  })

  it('a learner operates it: the printed trace hint traces the live client; scale, rollout restart and undo act on web', async () => {
    const hint = /kpe trace (--live --data-dir \S+ --from pod\/client --to svc\/web)$/m.exec(summary)
    expect(hint, summary).not.toBeNull()
    const client = (await livePods(up, 'app=client'))[0]!
    const traced = await runKpe(['trace', ...hint![1]!.split(' ')])
    expect(traced.code, traced.stderr).toBe(0)
    expect(traced.stdout).toContain(client.ip)
    for (const p of await livePods(up, 'app=web')) expect(traced.stdout).toContain(p.ip)
    const ok = async (...args: string[]): Promise<string> => {
      const r = await up.kubectl(...args)
      expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0)
      return r.stdout
    }
    const hashes = async (): Promise<string[]> => [...new Set((await ok('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.labels.pod-template-hash}')).split(' '))]
    const first = await hashes()
    expect(first).toHaveLength(1)
    await ok('scale', 'deployment/web', '--replicas=4')
    await ok('rollout', 'status', 'deployment/web', '--timeout=30s')
    expect(await ok('get', 'deployment', 'web', '-o', 'jsonpath={.status.readyReplicas}')).toBe('4')
    await ok('rollout', 'restart', 'deployment/web')
    await ok('rollout', 'status', 'deployment/web', '--timeout=30s')
    const restarted = (await ok('get', 'deployment', 'web', '-o', 'jsonpath={.metadata.generation}'))
    expect(Number(restarted)).toBeGreaterThanOrEqual(3)
    // the old ReplicaSet is scaled to 0 (its pods are Terminating for their grace period)
    expect(await ok('get', 'replicasets', '-l', `app=web,pod-template-hash=${first[0]}`, '-o', 'jsonpath={.items[0].spec.replicas}')).toBe('0')
    expect(await hashes()).toContain((await ok('get', 'replicasets', '-l', 'app=web', '-o', 'jsonpath={.items[?(@.spec.replicas==4)].metadata.labels.pod-template-hash}')))
    await ok('rollout', 'undo', 'deployment/web')
    await ok('rollout', 'status', 'deployment/web', '--timeout=30s')
    // undo goes back to the first ReplicaSet (its hash), not a new one
    expect(await ok('get', 'deployment', 'web', '-o', 'jsonpath={.status.updatedReplicas}')).toBe('4')
    expect((await ok('get', 'replicasets', '-l', 'app=web', '-o', 'name')).trim().split('\n')).toHaveLength(2)
    expect(await ok('get', 'replicasets', '-l', `app=web,pod-template-hash=${first[0]}`, '-o', 'jsonpath={.items[0].spec.replicas}')).toBe('4')
  }, 120_000)

  it('a scale is timed as upstream times it: the slice carries its trigger time and every node observes network programming latency', async () => {
    const url = /curl (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(summary)![1]!
    const counts = async (): Promise<Map<string, number>> => {
      const text = await (await fetch(`${url}/metrics`)).text()
      return new Map([...text.matchAll(/^kubeproxy_network_programming_duration_seconds_count\{node="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]))
    }
    const before = await counts()
    expect([...before.keys()].sort()).toEqual(['node-a', 'node-b', 'node-c'])
    const scaled = await up.kubectl('scale', 'deployment/echo', '--replicas=3')
    expect(scaled.code, scaled.stderr).toBe(0)
    const status = await up.kubectl('rollout', 'status', 'deployment/echo', '--timeout=30s')
    expect(status.code, status.stderr).toBe(0)
    const annotation = await up.kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=echo', '-o', 'jsonpath={.items[*].metadata.annotations.endpoints\\.kubernetes\\.io/last-change-trigger-time}')
    expect(annotation.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
    expect(Date.now() - Date.parse(annotation.stdout)).toBeLessThan(60_000)
    const grew = async (): Promise<boolean> => [...(await counts())].every(([node, n]) => n > (before.get(node) ?? 0))
    for (let i = 0; i < 50 && !(await grew()); i++) await new Promise((r) => setTimeout(r, 200))
    const after = await counts()
    for (const [node, n] of before) expect(after.get(node), node).toBeGreaterThan(n)
  }, 60_000)

  it('stops cleanly on SIGINT', async () => {
    expect(await up.stop()).toBe(0)
  })
})
