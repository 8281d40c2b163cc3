/**
 * KWOK-scale kpe up, small: `kpe up --nodes 50` beside the three configured (real) nodes, a
 * Deployment of 250 pods spread over all of them, and a Service. Every node Ready; lightweight
 * pods Running with IPs from their node's podCIDR and in the EndpointSlices; a real node's pod
 * still answers; kube-proxy's rules for a lightweight node still computable through attach mode.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCidr, cidrContains, type IPAddress } from '../../src/net/index.js'
import { repoRoot } from '../helpers/shared.js'
import { curl, hasKubectl, run, startKpeUp, type KpeUp } from './kpe-up-process.js'

const main = join(repoRoot, 'dist/src/cli/main.js')
const agnhost = 'registry.k8s.io/e2e-test-images/agnhost:2.53'
const replicas = 250

const manifests = `apiVersion: apps/v1
kind: Deployment
metadata: { name: light }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: light } }
  template:
    metadata: { labels: { app: light } }
    spec:
      containers: [{ name: agnhost, image: "${agnhost}", args: ["netexec", "--http-port=8080"], ports: [{ containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: light }
spec: { selector: { app: light }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: real }
spec:
  replicas: 1
  selector: { matchLabels: { app: real } }
  template:
    metadata: { labels: { app: real } }
    spec:
      nodeSelector: { kubernetes.io/hostname: node-a }
      containers: [{ name: agnhost, image: "${agnhost}", args: ["netexec", "--http-port=8080"], ports: [{ containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: real }
spec: { type: NodePort, selector: { app: real }, ports: [{ port: 80, targetPort: 8080 }] }
`

describe.runIf(hasKubectl)('kpe up --nodes 50', () => {
  let up: KpeUp
  const ok = async (...args: string[]): Promise<string> => {
    const r = await up.kubectl(...args)
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
  let summarySeconds = 0
  beforeAll(async () => {
    const t = Date.now()
    up = await startKpeUp([], ['--nodes', '50'])
    summarySeconds = (Date.now() - t) / 1000
    const file = join(up.dataDir, 'scale.yaml')
    writeFileSync(file, manifests)
    await ok('apply', '-f', file)
    await ok('rollout', 'status', 'deploy/light', '--timeout=40s')
    await ok('rollout', 'status', 'deploy/real', '--timeout=20s')
  }, 70_000)
  afterAll(async () => {
    await up?.stop()
    if (up) rmSync(up.dataDir, { recursive: true, force: true })
  })

  it('lists 53 nodes, every one Ready with a Lease, and names only the real ones in the summary', async () => {
    const rows = (await ok('get', 'nodes', '--no-headers')).trim().split('\n').map((l) => l.split(/\s+/))
    expect(rows).toHaveLength(53)
    expect(rows.filter((r) => r[1] !== 'Ready')).toEqual([])
    expect(rows.map((r) => r[0])).toContain('node-0049')
    const leases = (await ok('get', 'leases', '-n', 'kube-node-lease', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ')
    expect(leases.sort()).toEqual(rows.map((r) => r[0]).sort())
    expect(up.summary).toContain('+ 50 lightweight nodes')
    expect(up.summary).not.toContain('node-0000')
    // with nothing to write after start, the summary does not wait out the 15 s settle timeout
    expect(summarySeconds).toBeLessThan(10)
  })

  it('runs lightweight pods with unique IPs from their node\'s podCIDR, all in the EndpointSlices', async () => {
    const cidrs = new Map((await ok('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.podCIDR}{"\\n"}{end}')).trim().split('\n').map((l) => l.split(' ') as [string, string]))
    const pods = (await ok('get', 'pods', '-l', 'app=light', '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.status.podIP} {.status.phase}{"\\n"}{end}')).trim().split('\n').map((l) => l.split(' '))
    expect(pods).toHaveLength(replicas)
    const nodes = new Set(pods.map(([node]) => node))
    expect(nodes.size).toBe(53)
    for (const [node, ip, phase] of pods) {
      expect(phase).toBe('Running')
      expect(cidrContains(parseCidr(cidrs.get(node!)!)!, ip as IPAddress), `${ip} in ${node}'s ${cidrs.get(node!)}`).toBe(true)
    }
    const ips = pods.map(([, ip]) => ip!)
    expect(new Set(ips).size).toBe(replicas)
    const sliced = (await ok('get', 'endpointslices', '-l', 'kubernetes.io/service-name=light', '-o', 'jsonpath={range .items[*].endpoints[*]}{.addresses[0]} {.conditions.ready}{"\\n"}{end}')).trim().split('\n').map((l) => l.split(' '))
    expect(sliced.map(([ip]) => ip).sort()).toEqual([...ips].sort())
    expect(sliced.every(([, ready]) => ready === 'true')).toBe(true)
  })

  it('a real node\'s pod still answers through its NodePort', async () => {
    const pod = (await ok('get', 'pods', '-l', 'app=real', '-o', 'jsonpath={.items[0].metadata.name}')).trim()
    const nodePort = (await ok('get', 'svc', 'real', '-o', 'jsonpath={.spec.ports[0].nodePort}')).trim()
    // The entry points follow changes a moment after the API (their index is rebuilt after each):
    // a NodePort answers once the pod's endpoint is in node-a's rules and the index.
    let r = await curl([`http://${up.prefix}1:${nodePort}/hostname`])
    for (const deadline = Date.now() + 10_000; r.stdout !== pod && Date.now() < deadline; r = await curl([`http://${up.prefix}1:${nodePort}/hostname`])) await new Promise((res) => setTimeout(res, 200))
    expect(r.stdout).toBe(pod)
  })

  it('computes a lightweight node\'s rules through attach mode, with every endpoint', async () => {
    const r = await run(process.execPath, [main, 'rules', '--kubeconfig', up.kubeconfig, '--node', 'node-0049'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('KUBE-SEP-')
    const dnat = r.stdout.split('\n').flatMap((l) => /^-A KUBE-SEP-\S+ .*--comment "?default\/light"? .*-j DNAT --to-destination (\S+):8080$/.exec(l)?.[1] ?? [])
    const ips = (await ok('get', 'pods', '-l', 'app=light', '-o', 'jsonpath={.items[*].status.podIP}')).trim().split(' ')
    expect(dnat.sort()).toEqual(ips.sort())
  })

  it('the shared loop observes network programming latency once per lightweight node per slice write, on /metrics', async () => {
    const url = /curl (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(up.summary)?.[1]
    expect(url, up.summary).toBeDefined()
    const text = await (await fetch(`${url}/metrics`)).text()
    const count = Number(/^kubeproxy_network_programming_duration_seconds_count\{node="\(lightweight\)"\} (\d+)$/m.exec(text)?.[1])
    // deploy/light's rollout wrote its slice with trigger times after the loop started.
    expect(count).toBeGreaterThanOrEqual(50)
    expect(count % 50).toBe(0)
    const sum = Number(/^kubeproxy_network_programming_duration_seconds_sum\{node="\(lightweight\)"\} (\S+)$/m.exec(text)?.[1])
    expect(sum / count).toBeLessThan(30)
    expect(text).toMatch(/^kubeproxy_network_programming_duration_seconds_count\{node="node-a"\} [1-9]/m)
  })

  it('the lightweight nodes\' shared kube-proxy loop holds the same rules as attach mode computes (kpe rules --live)', async () => {
    const attached = join(up.dataDir, 'attached.dump')
    const live = join(up.dataDir, 'live.dump')
    let diff = ''
    // the shared loop syncs at most once a second after the last change: retry until both sides settle
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const a = await run(process.execPath, [main, 'rules', '--kubeconfig', up.kubeconfig, '--node', 'node-0049', '--as-saved'])
      const l = await run(process.execPath, [main, 'rules', '--live', '--node', 'node-0049', '--data-dir', up.dataDir])
      expect(a.code, a.stderr).toBe(0)
      expect(l.code, l.stderr).toBe(0)
      expect(l.stdout).toContain('default/light')
      writeFileSync(attached, a.stdout)
      writeFileSync(live, l.stdout)
      diff = (await run(process.execPath, [main, 'rules', '--diff', '--rules', attached, '--rules2', live])).stdout
      if (diff === 'no changes\n') break
      await new Promise((r) => setTimeout(r, 500))
    }
    expect(diff).toBe('no changes\n')
  }, 40_000)
})
