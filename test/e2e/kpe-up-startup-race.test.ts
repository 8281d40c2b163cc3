/**
 * The startup race of issue 10 (item 9) with the real binaries: `kpe up` with no manifests, and
 * `kubectl apply` of a Namespace, a 3-replica Deployment and three Services (ClusterIP, NodePort,
 * LoadBalancer) as soon as /version answers. kpe must print its summary and every node's rules
 * must hold all three Services. (The in-process test/unit/up/startup-race.test.ts replays the
 * sequence 50 times with randomized delays.) Only loopback addresses are dialled.
 */
import { spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { curl, hasKubectl, kubectlPath, run } from './kpe-up-process.js'
import { tempDir } from '../helpers/temp-dirs.js'

const manifest = `apiVersion: v1
kind: Namespace
metadata: {name: race}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: race}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.k8s.io/e2e-test-images/agnhost:2.39, args: [netexec, --http-port=8080], ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web-cip, namespace: race}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-np, namespace: race}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-lb, namespace: race}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`

/** A port that was free a moment ago: kpe up must be given a fixed one for /version to be polled before server.json exists. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

describe.runIf(hasKubectl)('kpe up: kubectl apply right after /version answers', () => {
  it('prints the summary and programs every Service on every node', async () => {
    const dir = tempDir('kpe-race-e2e-')
    const port = await freePort()
    const prefix = `127.${randomInt(20, 250)}.${randomInt(1, 250)}.`
    writeFileSync(join(dir, 'race.yaml'), manifest)
    const kubeconfig = join(dir, 'kubeconfig')
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: k, cluster: {server: "http://127.0.0.1:${port}"}}]\ncontexts: [{name: k, context: {cluster: k, user: u}}]\nusers: [{name: u, user: {}}]\ncurrent-context: k\n`)
    const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'up', '--data-dir', join(dir, 'data'), '--port', String(port),
      '--socks-port', '0', '--http-proxy-port', '0', '--metrics-port', '0', '--node-loopback-prefix', prefix], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    try {
      let up = false
      for (let i = 0; i < 2000 && !up; i++) {
        up = (await curl([`http://127.0.0.1:${port}/version`], 1)).code === 0
        if (!up) await sleep(5)
      }
      expect(up).toBe(true)
      const apply = await run(kubectlPath, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), 'apply', '-f', join(dir, 'race.yaml')])
      expect(apply.code, apply.stderr).toBe(0)
      for (let i = 0; i < 300 && !out.includes('Ctrl-C stops everything'); i++) await sleep(100)
      expect(out, err).toContain('kpe is up')
      const agents = (JSON.parse(readFileSync(join(dir, 'data', 'agents.json'), 'utf8')) as { url: string }).url
      const missing = async (): Promise<string[]> => {
        const gaps: string[] = []
        for (const node of ['node-a', 'node-b', 'node-c']) {
          const rules = (await curl([`${agents}/rules/${node}`])).stdout
          for (const s of ['web-cip', 'web-np', 'web-lb']) if (!new RegExp(`race/${s}[: ]`).test(rules)) gaps.push(`${node} lacks race/${s}`)
        }
        return gaps
      }
      let gaps = await missing()
      for (let i = 0; i < 50 && gaps.length > 0; i++) {
        await sleep(100)
        gaps = await missing()
      }
      expect(gaps).toEqual([])
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      if (child.exitCode === null) child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }, 60_000)
})
