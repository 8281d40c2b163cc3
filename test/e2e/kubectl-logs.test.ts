/**
 * `kubectl logs` (kubectl 1.32 and 1.33, real binaries) against one `kpe up --allow-exec`: the
 * request lines the emulated servers log after real curl through a NodePort, follow, tail, since,
 * timestamps, limit-bytes, deploy/ and -l --prefix, -c on a two-container pod, --previous after a
 * liveness-probe restart (whose pod status, CrashLoopBackOff, lastState and imageID, the official
 * Python client also reads typed), and a process container's output. Only loopback addresses are
 * dialled; kubectl processes are stopped by PID.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { curl, hasKubectl, kubectlPath, run, startKpeUp, type KpeUp, type Run } from './kpe-up-process.js'

const kubectl133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33'
const kubectls = [['1.32', kubectlPath], ['1.33', kubectl133]] as const
for (const [, path] of kubectls) {
  if (!existsSync(path)) {
    if (process.env['CI']) throw new Error(`${path} is missing and CI is set`)
    console.warn(`skipping kubectl logs tests: ${path} is missing`)
  }
}
const haveAll = hasKubectl && existsSync(kubectl133)
const python = '/usr/bin/python3'
const hasPythonClient = ((): boolean => {
  try {
    execFileSync(python, ['-c', 'import kubernetes'], { stdio: 'ignore' })
    return true
  } catch {
    if (process.env['CI']) throw new Error(`${python} cannot import kubernetes, and CI is set: install python3-kubernetes (.ci/run does)`)
    console.warn('skipping the typed-status check: python3-kubernetes is missing')
    return false
  }
})()

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: [netexec, --http-port=8080]
        ports: [{containerPort: 8080}]
        resources: {limits: {cpu: 100m, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: 30180}]
---
apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  containers:
  - {name: web, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [netexec, --http-port=8080]}
  - {name: side, image: nginx:1.27, ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
  - name: web
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: [netexec, --http-port=8080]
    livenessProbe: {httpGet: {path: /broken, port: 8080}, periodSeconds: 1, failureThreshold: 1}
`

// One kpe up for the file; --allow-exec for the process container at the end (the image-based
// pods are emulated either way: they have no `command`).
let shared: KpeUp | undefined
const file = { get up(): KpeUp { if (!shared) throw new Error('kpe up is not running'); return shared } }
const ok = async (...args: string[]): Promise<string> => {
  const r = await file.up.kubectl(...args)
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}
afterAll(async () => {
  await shared?.stop()
  if (shared) rmSync(shared.dataDir, { recursive: true, force: true })
})
let webPods: string[] = []

beforeAll(async () => {
  if (!haveAll) return
  shared = await startKpeUp([], ['--allow-exec'])
  const f = join(file.up.dataDir, 'logs.yaml')
  writeFileSync(f, manifest)
  await ok('apply', '-f', f)
  await ok('rollout', 'status', 'deployment/web', '--timeout=30s')
  await ok('wait', '--for=condition=Ready', 'pod/two', '--timeout=20s')
  webPods = (await ok('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ').sort()
  // The NodePort answers once kube-proxy has synced the Service with both endpoints.
  for (let i = 0; i < 50 && (await curl([`http://${file.up.prefix}1:30180/hostname?tag=warmup`])).code !== 0; i++) await new Promise((r) => setTimeout(r, 200))
}, 60_000)

const hostnameRequest = async (tag: string): Promise<string> => {
  const r = await curl([`http://${file.up.prefix}1:30180/hostname?tag=${tag}`])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout
}

describe.skipIf(!haveAll).each(kubectls)('kubectl %s logs', (version, path) => {
  const kubectl = (...args: string[]): Promise<Run> => run(path, ['--kubeconfig', file.up.kubeconfig, '--cache-dir', join(file.up.dataDir, `cache-${version}`), ...args])
  const logs = async (...args: string[]): Promise<string> => {
    const r = await kubectl('logs', ...args)
    if (r.code !== 0) throw new Error(`kubectl logs ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }

  it('shows the request lines a pod answered, with the peer it saw', async () => {
    const tag = `plain-${version}`
    const pod = await hostnameRequest(tag)
    expect(webPods).toContain(pod)
    const out = await logs(pod)
    expect(out).toMatch(/^kpe: emulated netexec serving 8080\/tcp\n/)
    expect(out).toMatch(new RegExp(`^http \\d+\\.\\d+\\.\\d+\\.\\d+:\\d+ "GET /hostname\\?tag=${tag} HTTP/1\\.1" 200 ${pod.length} "curl/[^"]+"$`, 'm'))
  })

  it('--tail, --timestamps, --limit-bytes and --since cut the log as kubelet does', async () => {
    const pod = await hostnameRequest(`tail-${version}`)
    const tail = await logs(pod, '--tail=1')
    expect(tail).toMatch(new RegExp(`^http .*tag=tail-${version} .*\\n$`))
    const stamped = (await logs(pod, '--timestamps')).trimEnd().split('\n')
    for (const line of stamped) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (kpe: |http )/)
    expect(await logs(pod, '--limit-bytes=10')).toBe('kpe: emula')
    expect(await logs(pod, `--since-time=${new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z')}`)).toBe('')
    expect(await logs(pod, '--since-time=2000-01-01T00:00:00Z')).toBe(await logs(pod))
    await new Promise((r) => setTimeout(r, 2100))
    expect(await logs(pod, '--since=2s')).toBe('')
    await hostnameRequest(`since-${version}`)
    // The request may have gone to the other pod: look at both.
    const recent = await Promise.all(webPods.map((p) => logs(p, '--since=2s')))
    expect(recent.join('')).toMatch(new RegExp(`tag=since-${version} `))
    expect(recent.join('').split('\n').filter((l) => l !== '')).toHaveLength(1)
  })

  it('-f streams new lines until stopped', async () => {
    const pod = webPods[0]!
    const child = spawn(path, ['--kubeconfig', file.up.kubeconfig, '--cache-dir', join(file.up.dataDir, `cache-f-${version}`), 'logs', '-f', '--tail=0', pod], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      let out = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
      const tag = `follow-${version}`
      const deadline = Date.now() + 15_000
      while (!out.includes(`tag=${tag}`) && Date.now() < deadline) {
        // Through the NodePort until one request lands on this pod.
        await hostnameRequest(tag)
        await new Promise((r) => setTimeout(r, 200))
      }
      expect(out).toMatch(new RegExp(`^http .*"GET /hostname\\?tag=${tag} HTTP/1\\.1" 200`, 'm'))
      expect(child.exitCode).toBeNull()
    } finally {
      child.kill('SIGKILL')
    }
  }, 20_000)

  it('deploy/NAME picks one pod and -l --prefix shows every pod by name and container', async () => {
    const r = await kubectl('logs', 'deploy/web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^kpe: emulated netexec serving 8080\/tcp$/m)
    const prefixed = await logs('-l', 'app=web', '--prefix', '--tail=1')
    const prefixes = prefixed.trimEnd().split('\n').map((l) => /^\[([^\]]+)\]/.exec(l)?.[1]).sort()
    expect(prefixes).toEqual(webPods.map((p) => `pod/${p}/agnhost`))
  })

  it('-c chooses the container of a two-container pod; the API server asks for one without it', async () => {
    expect(await logs('two', '-c', 'side')).toBe('kpe: emulated nginx serving 80/tcp\n')
    const r = await kubectl('logs', 'two')
    expect(r.stderr).toContain('Defaulted container "web" out of: web, side')
    expect(r.stdout).toMatch(/^kpe: emulated netexec serving 8080\/tcp$/m)
    const all = await logs('two', '--all-containers', '--prefix')
    expect(all).toContain('[pod/two/side] kpe: emulated nginx serving 80/tcp\n')
    expect(all).toContain('[pod/two/web] kpe: emulated netexec serving 8080/tcp\n')
    const raw = await kubectl('get', '--raw', '/api/v1/namespaces/default/pods/two/log')
    expect(raw.stderr).toContain('a container name must be specified for pod two, choose one of: [web side]')
  })

  it('--previous reads the instance before a liveness restart, and fails for a pod that never restarted', async () => {
    const deadline = Date.now() + 15_000
    while (Date.now() < deadline && !(Number((await ok('get', 'pod', 'crash', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}')) || 0) >= 1)) await new Promise((r) => setTimeout(r, 250))
    const previous = await logs('crash', '--previous')
    expect(previous).toMatch(/^kpe: emulated netexec serving 8080\/tcp\n/)
    expect(previous).toMatch(/^http [\d.]+:\d+ "GET \/broken HTTP\/1\.1" 404 \d+ "kube-probe\/1\.33"$/m)
    // Following a container that gets killed ends with it (kubelet closes the stream).
    const followed = await run(path, ['--kubeconfig', file.up.kubeconfig, '--cache-dir', join(file.up.dataDir, `cache-${version}`), 'logs', '-f', 'crash'], 15_000)
    expect(followed.code, followed.stderr).toBe(0)
    expect(followed.stdout).toMatch(/^kpe: emulated netexec serving 8080\/tcp$/m)
    const never = await kubectl('logs', 'two', '-c', 'side', '--previous')
    expect(never.code).not.toBe(0)
    expect(never.stderr).toContain('previous terminated container "side" in pod "two" not found')
  }, 20_000)
})

describe.skipIf(!haveAll)('pod status as clients expect', () => {
  it('a container failing its liveness probe restarts with back-off and shows CrashLoopBackOff and its last state', async () => {
    let status: Record<string, any> = {}
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      status = JSON.parse(await ok('get', 'pod', 'crash', '-o', 'json'))['status']
      if (status['containerStatuses']?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff') break
      await new Promise((r) => setTimeout(r, 250))
    }
    const cs = status['containerStatuses'][0]
    expect(cs).toMatchObject({
      name: 'web', ready: false, started: false,
      state: { waiting: { reason: 'CrashLoopBackOff', message: expect.stringMatching(/^back-off (10|20|40)s restarting failed container=web pod=crash_default\(/) } },
      lastState: { terminated: { exitCode: 137, reason: 'Error', containerID: expect.stringMatching(/^kpe:\/\/[0-9a-f]{64}$/) } },
      imageID: expect.stringMatching(/^kpe:\/\/image@sha256:[0-9a-f]{64}$/),
    })
    expect(cs.restartCount).toBeGreaterThanOrEqual(1)
    expect(status).toMatchObject({ phase: 'Running', qosClass: 'BestEffort', hostIP: expect.any(String), hostIPs: [{ ip: expect.any(String) }], podIPs: [{ ip: status['podIP'] }], startTime: expect.any(String) })
    const table = await ok('get', 'pod', 'crash')
    expect(table).toMatch(/crash\s+0\/1\s+CrashLoopBackOff\s+\d+ \(\d+s ago\)/)
    const described = await ok('describe', 'pod', 'crash')
    for (const line of [/^\s+Container ID:\s+kpe:\/\/[0-9a-f]{64}$/m, /^\s+Image ID:\s+kpe:\/\/image@sha256:[0-9a-f]{64}$/m, /^\s+State:\s+Waiting$/m, /^\s+Reason:\s+CrashLoopBackOff$/m,
      /^\s+Last State:\s+Terminated$/m, /^\s+Exit Code:\s+137$/m, /^\s+Restart Count:\s+[1-9]\d*$/m, /^QoS Class:\s+BestEffort$/m]) expect(described).toMatch(line)
    const web = JSON.parse(await ok('get', 'pods', '-l', 'app=web', '-o', 'json'))['items'][0]['status']
    expect(web.qosClass).toBe('Guaranteed')
  }, 30_000)

  it.skipIf(!hasPythonClient)('the official Python client reads the restarted pods typed', async () => {
    const script = [
      'import sys',
      'from kubernetes import client, config',
      'config.load_kube_config(sys.argv[1])',
      'pods = client.CoreV1Api().list_namespaced_pod("default").items',
      'for p in pods:',
      '    for cs in p.status.container_statuses or []:',
      '        t = cs.last_state.terminated',
      '        print(p.metadata.name, cs.name, cs.restart_count, cs.image_id[:25], t.exit_code if t else "-", p.status.qos_class)',
    ].join('\n')
    const r = await run(python, ['-c', script, file.up.kubeconfig], 30_000)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^crash web [1-9]\d* kpe:\/\/image@sha256:[0-9a-f]{6} 137 BestEffort$/m)
    expect(r.stdout).toMatch(/^two side 0 kpe:\/\/image@sha256:[0-9a-f]{6} - BestEffort$/m)
  }, 40_000)
})

describe.skipIf(!haveAll)('kpe up --allow-exec', () => {
  it('a process container logs its stdout and stderr, and kubectl logs shows them', async () => {
    const f = join(file.up.dataDir, 'exec.yaml')
    writeFileSync(f, `apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  containers:
  - name: sh
    image: busybox
    command: [sh, -c, 'echo hello from $POD_NAME; echo oops >&2; exec sleep 300']
`)
    await ok('apply', '-f', f)
    let out = ''
    for (let i = 0; i < 50 && !out.includes('oops'); i++) {
      out = (await file.up.kubectl('logs', 'talker')).stdout
      if (!out.includes('oops')) await new Promise((r) => setTimeout(r, 200))
    }
    expect(out.split('\n').sort()).toEqual(['', 'hello from talker', 'oops'])
  }, 20_000)
})
