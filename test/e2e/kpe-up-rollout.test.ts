/**
 * Issue 5's rolling update under steady load, against the real `kpe up` CLI: a Deployment with
 * readiness probes behind a NodePort, a bounded request loop (a new connection per request, each
 * with a timeout) through every node's NodePort, `kubectl set image`, `kubectl rollout status`;
 * the test counts every failed request itself. Only loopback addresses are dialled.
 */
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasKubectl, startKpeUp, type KpeUp } from './kpe-up-process.js'

const nodePort = 30090
const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: roll
spec:
  replicas: 3
  selector:
    matchLabels: { app: roll }
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }
  template:
    metadata:
      labels: { app: roll }
    spec:
      terminationGracePeriodSeconds: 3
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080"]
        ports:
        - { name: http, containerPort: 8080 }
        readinessProbe:
          httpGet: { path: /hostname, port: http }
          initialDelaySeconds: 1
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: roll
spec:
  type: NodePort
  selector: { app: roll }
  ports:
  - { name: http, port: 80, targetPort: http, nodePort: ${nodePort} }
`

interface Outcome { readonly ok: boolean; readonly body: string; readonly error?: string }

/** One request on a fresh connection, failed after timeoutMs. */
function get(host: string, path: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request({ host, port: nodePort, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve(res.statusCode === 200 ? { ok: true, body } : { ok: false, body, error: `HTTP ${res.statusCode}` }))
      res.on('error', (e) => resolve({ ok: false, body, error: e.message }))
    })
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)))
    req.on('error', (e) => resolve({ ok: false, body: '', error: e.message }))
    req.end()
  })
}

/** Requests at a steady rate, round-robin over the node addresses, until stop() is called. */
function steadyLoad(hosts: readonly string[], perSecond: number): { stop(): Promise<Outcome[]> } {
  const outcomes: Promise<Outcome>[] = []
  let i = 0
  const timer = setInterval(() => { outcomes.push(get(hosts[i++ % hosts.length]!, '/hostname', 2_000)) }, 1000 / perSecond)
  return { stop: async () => { clearInterval(timer); return Promise.all(outcomes) } }
}

let up: KpeUp

beforeAll(async () => {
  up = await startKpeUp()
}, 40_000)

afterAll(async () => {
  await up?.stop()
})

describe.skipIf(!hasKubectl)('a rolling update under steady load through kpe up', () => {
  it('kubectl set image completes with zero failed requests through the NodePorts', async () => {
    const file = join(up.dataDir, 'roll.yaml')
    writeFileSync(file, manifest)
    const applied = await up.kubectl('apply', '-f', file)
    expect(applied.code, applied.stderr).toBe(0)
    const first = await up.kubectl('rollout', 'status', 'deploy/roll', '--timeout=60s')
    expect(first.code, first.stderr).toBe(0)
    const hosts = [1, 2, 3].map((n) => `${up.prefix}${n}`)
    // The initial rollout's endpoints must reach every node's rules before the load starts.
    for (let tries = 0; tries < 50; tries++) {
      const probes = await Promise.all(hosts.map((h) => get(h, '/hostname', 1_000)))
      if (probes.every((p) => p.ok)) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const oldPods = new Set((await up.kubectl('get', 'pods', '-l', 'app=roll', '-o', 'jsonpath={.items[*].metadata.name}')).stdout.split(' '))

    const load = steadyLoad(hosts, 20)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const rolloutStart = Date.now()
    const set = await up.kubectl('set', 'image', 'deploy/roll', 'agnhost=registry.k8s.io/e2e-test-images/agnhost:2.54')
    expect(set.code, set.stderr).toBe(0)
    const rollout = await up.kubectl('rollout', 'status', 'deploy/roll', '--timeout=90s')
    expect(rollout.code, rollout.stderr).toBe(0)
    const rolloutMs = Date.now() - rolloutStart
    // Keep the load on while the last old pods finish their grace period.
    await new Promise((resolve) => setTimeout(resolve, 4_000))
    const outcomes = await load.stop()

    const failed = outcomes.filter((o) => !o.ok)
    const byPod = new Map<string, number>()
    for (const o of outcomes) if (o.ok) byPod.set(o.body, (byPod.get(o.body) ?? 0) + 1)
    const newPods = [...byPod.keys()].filter((p) => !oldPods.has(p))
    console.log(`rolling update under load: ${outcomes.length} requests, ${failed.length} failed, ${byPod.size} pods answered (${newPods.length} new), rollout took ${rolloutMs} ms`)
    expect(failed.map((f) => f.error)).toEqual([])
    expect(outcomes.length).toBeGreaterThan(120)
    expect(newPods.length).toBe(3)
    expect(outcomes.slice(-20).every((o) => !oldPods.has(o.body))).toBe(true)
  }, 120_000)
})
