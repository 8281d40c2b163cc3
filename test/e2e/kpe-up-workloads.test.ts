/**
 * Workload controllers against one real `kpe up` with the real kubectl: Deployment history
 * (`rollout undo` reuses the old ReplicaSet, `rollout history` shows what upstream shows),
 * pause/resume; a StatefulSet's web-0/web-1 with stable hostnames, a DaemonSet with one Pod per
 * untainted node, a Job that completes and one that fails past its backoffLimit.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hasKubectl, kpeUpForFile } from './kpe-up-process.js'

const k = kpeUpForFile()
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const agnhost = (tag: string): string => `registry.k8s.io/e2e-test-images/agnhost:${tag}`

async function apply(name: string, yaml: string): Promise<void> {
  const file = join(k.up.dataDir, `${name}.yaml`)
  writeFileSync(file, yaml)
  await k.ok('apply', '-f', file)
}

async function until(what: string, cond: () => Promise<boolean>, ms = 30_000, last?: () => string): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (last seen: ${last()})` : ''}`)
    await sleep(200)
  }
}

const historyRows = (out: string): string[] => out.trim().split('\n').slice(2).map((l) => l.trim().replace(/\s+/g, ' '))

describe.skipIf(!hasKubectl)('Deployment history through kpe up', () => {
  it('rollout undo reuses the old ReplicaSet and history shows revisions 2 and 3; pause holds a rollout until resume', async () => {
    await apply('hist', `apiVersion: apps/v1
kind: Deployment
metadata: { name: hist }
spec:
  replicas: 1
  selector: { matchLabels: { app: hist } }
  template:
    metadata: { labels: { app: hist } }
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{ name: agnhost, image: "${agnhost('2.53')}", args: ["netexec", "--http-port=8080"] }]
`)
    await k.ok('rollout', 'status', 'deploy/hist', '--timeout=60s')
    await k.ok('set', 'image', 'deploy/hist', `agnhost=${agnhost('2.54')}`)
    await k.ok('annotate', 'deploy/hist', 'kubernetes.io/change-cause=to 2.54')
    await k.ok('rollout', 'status', 'deploy/hist', '--timeout=60s')
    let history = ''
    await until('change-cause on the new ReplicaSet', async () => (history = historyRows(await k.ok('rollout', 'history', 'deploy/hist')).join('|')) === '1 <none>|2 to 2.54', 30_000, () => history)
    const before = (await k.ok('get', 'rs', '-l', 'app=hist', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ').sort()

    expect(await k.ok('rollout', 'undo', 'deploy/hist')).toContain('deployment.apps/hist rolled back')
    await k.ok('rollout', 'status', 'deploy/hist', '--timeout=60s')
    expect((await k.ok('get', 'rs', '-l', 'app=hist', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ').sort()).toEqual(before)
    await until('history after undo', async () => historyRows(await k.ok('rollout', 'history', 'deploy/hist')).join('|') === '2 to 2.54|3 <none>')
    expect(await k.ok('rollout', 'history', 'deploy/hist', '--revision=3')).toContain(agnhost('2.53'))
    expect(await k.ok('get', 'deploy/hist', '-o', 'jsonpath={.spec.template.spec.containers[0].image}')).toBe(agnhost('2.53'))

    await k.ok('rollout', 'pause', 'deploy/hist')
    await k.ok('set', 'image', 'deploy/hist', `agnhost=${agnhost('2.55')}`)
    await until('paused condition', async () => (await k.ok('get', 'deploy/hist', '-o', 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}')) === 'DeploymentPaused')
    await sleep(500)
    expect((await k.ok('get', 'rs', '-l', 'app=hist', '-o', 'name')).trim().split('\n')).toHaveLength(2)
    await k.ok('rollout', 'resume', 'deploy/hist')
    await k.ok('rollout', 'status', 'deploy/hist', '--timeout=60s')
    expect((await k.ok('get', 'rs', '-l', 'app=hist', '-o', 'name')).trim().split('\n')).toHaveLength(3)
    expect(historyRows(await k.ok('rollout', 'history', 'deploy/hist')).map((r) => r.split(' ')[0])).toEqual(['2', '3', '4'])
  }, 90_000)
})

describe.skipIf(!hasKubectl)('StatefulSet, DaemonSet and Job through kpe up', () => {
  it('a StatefulSet brings up web-0 then web-1, with hostname and subdomain from serviceName', async () => {
    await apply('sts', `apiVersion: v1
kind: Service
metadata: { name: web-hl }
spec: { clusterIP: None, selector: { app: web-sts }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web-hl
  replicas: 2
  selector: { matchLabels: { app: web-sts } }
  template:
    metadata: { labels: { app: web-sts } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agnhost
        image: "${agnhost('2.53')}"
        args: ["netexec", "--http-port=8080"]
        readinessProbe: { httpGet: { path: /hostname, port: 8080 }, periodSeconds: 1 }
`)
    await k.ok('rollout', 'status', 'sts/web', '--timeout=60s')
    expect(await k.ok('get', 'sts', 'web')).toMatch(/web\s+2\/2/)
    const pods = JSON.parse(await k.ok('get', 'pods', '-l', 'app=web-sts', '-o', 'json')) as { items: { metadata: { name: string; creationTimestamp: string }; spec: { hostname: string; subdomain: string } }[] }
    expect(pods.items.map((p) => [p.metadata.name, p.spec.hostname, p.spec.subdomain]).sort()).toEqual([['web-0', 'web-0', 'web-hl'], ['web-1', 'web-1', 'web-hl']])
    const slices = await k.ok('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web-hl', '-o', 'jsonpath={.items[*].endpoints[*].hostname}')
    expect(slices.split(' ').sort()).toEqual(['web-0', 'web-1'])
  }, 90_000)

  it('a DaemonSet runs one Pod on every untainted node', async () => {
    await k.ok('taint', 'node', 'node-c', 'dedicated=db:NoSchedule')
    try {
      await apply('ds', `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{ name: agnhost, image: "${agnhost('2.53')}", args: ["netexec", "--http-port=8080"] }]
`)
      await k.ok('rollout', 'status', 'ds/agent', '--timeout=60s')
      const nodes = (await k.ok('get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.nodeName}')).split(' ').sort()
      expect(nodes).toEqual(['node-a', 'node-b'])
      expect(await k.ok('get', 'ds', 'agent', '-o', 'jsonpath={.status.desiredNumberScheduled}/{.status.numberReady}')).toBe('2/2')
    } finally {
      await k.ok('taint', 'node', 'node-c', 'dedicated=db:NoSchedule-')
    }
    // the taint gone, node-c gets its Pod too
    await until('a pod on node-c', async () => (await k.ok('get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.nodeName}')).includes('node-c'))
  }, 90_000)

  it('a Job completes from its pods\' exit codes; one past its backoffLimit fails', async () => {
    await apply('jobs', `apiVersion: batch/v1
kind: Job
metadata: { name: count }
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: work, image: busybox, command: ["sh", "-c", "sleep 1; exit 0"] }]
---
apiVersion: batch/v1
kind: Job
metadata: { name: doomed }
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: work, image: busybox, command: ["sh", "-c", "exit 3"] }]
`)
    await k.ok('wait', '--for=condition=complete', 'job/count', '--timeout=60s')
    expect(await k.ok('get', 'job', 'count', '-o', 'jsonpath={.status.succeeded}')).toBe('3')
    expect(await k.ok('get', 'job', 'count')).toMatch(/count\s+Complete\s+3\/3/)
    await k.ok('wait', '--for=condition=failed', 'job/doomed', '--timeout=60s')
    expect(await k.ok('get', 'job', 'doomed', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}')).toBe('BackoffLimitExceeded')
    const codes = await k.ok('get', 'pods', '-l', 'job-name=doomed', '-o', 'jsonpath={.items[*].status.containerStatuses[0].state.terminated.exitCode}')
    expect(codes.split(' ')).toEqual(['3', '3'])
  }, 90_000)
})
