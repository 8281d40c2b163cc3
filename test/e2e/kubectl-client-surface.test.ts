/**
 * End-to-end: the real kubectl against `kpe up` for the requests that used to fail: `kubectl
 * debug` reading the 404's details, `delete --dry-run=server`, `apply --server-side` conflicts
 * between field managers, and `drain` through pods/eviction. Cases that need another package's
 * kind or codec print why they are skipped.
 */
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasKubectl, run, startKpeUp, type KpeUp } from './kpe-up-process.js'

const kubectl133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33'

let up: KpeUp
beforeAll(async () => {
  if (hasKubectl) up = await startKpeUp()
}, 60_000)
afterAll(async () => {
  await up?.stop()
})

function apiBase(): string {
  const m = /API server (http:\/\/[\d.]+:\d+)/.exec(up.summary)
  if (!m?.[1]) throw new Error(`no API server address in the summary: ${up.summary}`)
  return m[1]
}

async function ok(...args: string[]): Promise<string> {
  const r = await up.kubectl(...args)
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

const deployment = (opts: { replicas?: number; label?: boolean }) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ssa
  labels:
    app: ssa
${opts.label ? '    team: blue\n' : ''}spec:
${opts.replicas === undefined ? '' : `  replicas: ${opts.replicas}\n`}  selector:
    matchLabels: { app: ssa }
  template:
    metadata:
      labels: { app: ssa }
    spec:
      containers:
      - name: web
        image: nginx
`

describe.skipIf(!hasKubectl)('kubectl requests against kpe up', () => {
  it('kubectl debug POD ends with a clean error instead of a panic (the 404 carries details)', async () => {
    const pod = (await ok('get', 'pods', '-o', 'name')).split('\n')[0]?.replace('pod/', '') ?? ''
    const binaries = [undefined, ...(existsSync(kubectl133) ? [kubectl133] : [])]
    for (const bin of binaries) {
      const args = ['debug', pod, '--image=busybox', '--profile=general', '--', 'true']
      const r = bin ? await run(bin, ['--kubeconfig', up.kubeconfig, '--cache-dir', join(up.dataDir, 'kc133'), ...args]) : await up.kubectl(...args)
      expect(r.stderr, bin ?? 'kubectl').not.toMatch(/panic|nil pointer/)
      expect(r.stderr).toMatch(/ephemeral containers are disabled for this cluster/)
    }
  })

  it('delete --dry-run=server (DeleteOptions.dryRun in the body) deletes nothing, with kubectl 1.32 and 1.33', async () => {
    await ok('create', 'configmap', 'dry-del', '--from-literal=k=v')
    for (const bin of [undefined, ...(existsSync(kubectl133) ? [kubectl133] : [])]) {
      const args = ['delete', 'configmap', 'dry-del', '--dry-run=server']
      const r = bin ? await run(bin, ['--kubeconfig', up.kubeconfig, '--cache-dir', join(up.dataDir, 'kc133'), ...args]) : await up.kubectl(...args)
      expect(r.stdout, `${bin ?? 'kubectl'}: ${r.stderr}`).toContain('configmap "dry-del" deleted (server dry run)')
      expect((await ok('get', 'configmap', 'dry-del', '-o', 'jsonpath={.data.k}')), bin ?? 'kubectl').toBe('v')
    }
    await ok('delete', 'configmap', 'dry-del')
  })

  it('apply --server-side: a second manager conflicts, --force-conflicts wins, and a field dropped from the file goes', async () => {
    const file = join(up.dataDir, 'ssa.yaml')
    await writeFile(file, deployment({ replicas: 2, label: true }))
    await ok('apply', '--server-side', '--field-manager=alice', '-f', file)
    await writeFile(file, deployment({ replicas: 3 }))
    const conflict = await up.kubectl('apply', '--server-side', '--field-manager=bob', '-f', file)
    expect(conflict.code).not.toBe(0)
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "alice": .spec.replicas')
    await ok('apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', file)
    expect(await ok('get', 'deployment', 'ssa', '-o', 'jsonpath={.spec.replicas}')).toBe('3')
    // alice stops applying the label and replicas (now bob's): the label goes, replicas stay.
    await writeFile(file, deployment({}))
    await ok('apply', '--server-side', '--field-manager=alice', '-f', file)
    expect(JSON.parse(await ok('get', 'deployment', 'ssa', '-o', 'jsonpath={.metadata.labels}'))).toEqual({ app: 'ssa' })
    expect(await ok('get', 'deployment', 'ssa', '-o', 'jsonpath={.spec.replicas}')).toBe('3')
  })

  it('drain --force evicts the node\'s pods through pods/eviction', async () => {
    const onNode = async (node: string): Promise<string[]> =>
      (await ok('get', 'pods', '--field-selector', `spec.nodeName=${node}`, '-o', 'name')).split('\n').filter((l) => l !== '')
    expect((await onNode('node-a')).length).toBeGreaterThan(0)
    const r = await up.kubectl('drain', 'node-a', '--force', '--ignore-daemonsets', '--grace-period=1', '--timeout=40s')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/evicting pod|pod\/.* evicted/)
    expect(r.stdout).toContain('node/node-a drained')
    expect(await ok('get', 'node', 'node-a', '-o', 'jsonpath={.spec.unschedulable}')).toBe('true')
    await ok('uncordon', 'node-a')
  }, 60_000)

  it('drain --disable-eviction deletes the node\'s pods instead', async () => {
    // kubectl sends DeleteOptions in protobuf here; until kpe decodes protobuf bodies (package protobuf) it answers 415.
    const probe = await fetch(`${apiBase()}/api/v1/namespaces/default/pods/none`, { method: 'DELETE', headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' }, body: Buffer.from('k8s\0') })
    if (probe.status === 415) {
      console.warn('skipping drain --disable-eviction: kpe does not decode protobuf request bodies yet (branch protobuf)')
      return
    }
    const r = await up.kubectl('drain', 'node-b', '--force', '--ignore-daemonsets', '--disable-eviction', '--grace-period=1', '--timeout=40s')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('node/node-b drained')
    await ok('uncordon', 'node-b')
  }, 60_000)

  it('drain stops at a PodDisruptionBudget that allows no disruption', async () => {
    const kinds = await ok('api-resources', '--api-group=policy', '-o', 'name')
    if (!kinds.includes('poddisruptionbudgets')) {
      console.warn('skipping the PodDisruptionBudget drain case: the kind is not served yet (branch openapi); test/unit/apiserver/eviction.test.ts covers it through the store')
      return
    }
    await ok('create', 'poddisruptionbudget', 'web-all', '--selector=app=web', '--min-available=100%')
    const r = await up.kubectl('drain', 'node-c', '--force', '--ignore-daemonsets', '--grace-period=1', '--timeout=8s')
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.")
    await ok('delete', 'poddisruptionbudget', 'web-all')
    await ok('uncordon', 'node-c')
  }, 60_000)
})
