/**
 * Workload controllers against one real `kpe up` with the real kubectl: Deployment history
 * (`rollout undo` reuses the old ReplicaSet, `rollout history` shows what upstream shows),
 * pause/resume.
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

async function until(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
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
    await until('change-cause on the new ReplicaSet', async () => historyRows(await k.ok('rollout', 'history', 'deploy/hist')).join('|') === '1 <none>|2 to 2.54')
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
