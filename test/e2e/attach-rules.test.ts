/**
 * Attach mode against a cluster holding each fixture: kpe's API server, on a memory store and
 * again on a real etcd (one member, a key prefix per fixture), is given
 * the fixture's Services, Nodes, EndpointSlices (as `kpe rules -f` derives them from its Pods) and
 * its KubeProxyConfiguration as the kube-proxy ConfigMap; `kpe rules --kubeconfig` must then print
 * what `kpe rules -f` prints, byte for byte, for every node, family and both modes. The client only
 * sees a kubeconfig, as with any remote cluster.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer, renderKubeconfig } from '../../src/apiserver/index.js'
import { runRulesCommand } from '../../src/cli/rules-command.js'
import { clusterObjects } from '../../src/proxy/model/index.js'
import { validateStoredObject } from '../../src/api/index.js'
import { EtcdStore, openMemoryStore, type ObjectStore } from '../../src/store/index.js'
import { callJson } from '../helpers/api-server.js'
import { requireEtcd, startEtcd, type EtcdCluster } from '../helpers/etcd-process.js'
import { fixtureNames, fixtureRenders, fixturesDir, loadFixture, staticFixturePath } from '../helpers/fixtures.js'
import { repoRoot } from '../helpers/shared.js'

interface Cluster {
  readonly kubeconfig: string
  close(): Promise<void>
}

const scratch = mkdtempSync(join(tmpdir(), 'kpe-attach-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

async function post(url: string, path: string, body: unknown): Promise<void> {
  const { status, json } = await callJson(url + path, 'POST', body)
  if (status !== 201) throw new Error(`POST ${path}: ${status} ${JSON.stringify(json)}`)
}

type OpenStore = (fixture: string) => Promise<ObjectStore>

/** A fresh API server holding the fixture's rule inputs, and a kubeconfig for it. */
async function clusterHolding(fixture: string, openStore: OpenStore): Promise<Cluster> {
  const store = await openStore(fixture)
  const server = await ApiServer.start({ store, port: 0, admissionHooks: [] })
  const set = loadFixture(fixture)
  const objects = clusterObjects(set)
  const namespaces = new Set([...[...objects.services, ...objects.endpointSlices].map((o) => o.metadata.namespace ?? 'default')])
  // the server bootstraps default, kube-system and friends itself
  for (const ns of namespaces) if (!['default', 'kube-system'].includes(ns)) await post(server.url, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
  for (const n of objects.nodes) await post(server.url, '/api/v1/nodes', n)
  for (const s of objects.services) {
    const path = `/api/v1/namespaces/${s.metadata.namespace ?? 'default'}/services`
    await post(server.url, path, s)
    // a create drops status, as kube-apiserver's does; load-balancer IPs arrive through /status
    if (s.status !== undefined) {
      const current = (await callJson(`${server.url}${path}/${s.metadata.name}`, 'GET')).json
      const { status } = await callJson(`${server.url}${path}/${s.metadata.name}/status`, 'PUT', { ...current, status: s.status })
      if (status !== 200) throw new Error(`PUT ${path}/${s.metadata.name}/status: ${status}`)
    }
  }
  for (const s of objects.endpointSlices) await post(server.url, `/apis/discovery.k8s.io/v1/namespaces/${s.metadata.namespace ?? 'default'}/endpointslices`, s)
  const kpc = set.kubeProxyConfigurations[0]?.object
  if (kpc) {
    await post(server.url, '/api/v1/namespaces/kube-system/configmaps', {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': stringify(kpc) },
    })
  }
  const kubeconfig = join(scratch, `${fixture}-${Date.now()}.kubeconfig`)
  writeFileSync(kubeconfig, renderKubeconfig(server.url), { mode: 0o600 })
  return { kubeconfig, close: async () => { await server.close(); await store.close() } }
}

let etcd: EtcdCluster | undefined
const stores: readonly (readonly [string, OpenStore])[] = [
  ['a memory store', () => openMemoryStore()],
  ...(requireEtcd('attach mode against kpe on etcd') ? [['etcd', async (fixture: string) => {
    etcd ??= await startEtcd(1)
    return EtcdStore.open({ endpoints: etcd.endpoints.split(','), prefix: `/kpe-${fixture}`, admit: validateStoredObject })
  }] as const] : []),
]
afterAll(async () => { await etcd?.stop() })

describe.each(stores)('kpe rules --kubeconfig equals kpe rules -f for every fixture, on %s', (_store, openStore) => {
  const renders = fixtureRenders()
  const clusters = new Map<string, Cluster>()
  beforeAll(async () => {
    for (const f of fixtureNames()) clusters.set(f, await clusterHolding(f, openStore))
  }, 120_000)
  afterAll(async () => {
    for (const c of clusters.values()) await c.close()
  })

  it.each(renders.map((r) => [`${r.fixture} ${r.node} ${r.family}`, r] as const))('%s', async (_n, r) => {
    const family = r.family === 'IPv4' ? '4' : '6'
    const file = join(repoRoot, staticFixturePath(r.fixture))
    for (const mode of ['iptables', 'nftables']) {
      const common = ['--node', r.node, '--ip-family', family, '--mode', mode]
      const attached = await runRulesCommand(['--kubeconfig', clusters.get(r.fixture)!.kubeconfig, ...common])
      expect(attached, `${mode} mode`).toBe(await runRulesCommand(['-f', file, ...common]))
    }
  })

  it('--diff against a node dump with one rule removed names the Service and the missing rule', async () => {
    const kubeconfig = clusters.get('session-affinity')!.kubeconfig
    const saved = await runRulesCommand(['-f', join(fixturesDir, 'session-affinity.yaml'), '--node', 'node-a', '--as-saved'])
    const lines = saved.split('\n')
    const removed = lines.findIndex((l) => l.startsWith('-A KUBE-SEP-') && l.includes('--set'))
    expect(removed).toBeGreaterThan(0)
    const dump = join(scratch, 'node-a.dump')
    writeFileSync(dump, lines.filter((_l, i) => i !== removed).join('\n'))
    const intact = join(scratch, 'node-a-intact.dump')
    writeFileSync(intact, saved)

    const diff = await runRulesCommand(['--diff', '--kubeconfig', kubeconfig, '--node', 'node-a', '--rules', dump])
    const svc = /--comment "?([^ "]+)/.exec(lines[removed]!)![1]!
    const chain = lines[removed]!.split(' ')[1]!
    const changed = diff.split('\n').filter((l) => /^[-+] /.test(l))
    // the cluster's objects hold the rule, the node does not: one rule, removed, under its Service
    expect(diff).toContain(`=== ${svc}`)
    expect(changed).toHaveLength(1)
    expect(changed[0]).toMatch(new RegExp(`^- nat +-A ${chain} .*-m recent .*--set`))
    expect(await runRulesCommand(['--diff', '--kubeconfig', kubeconfig, '--node', 'node-a', '--rules', intact])).not.toContain(svc)
  })

  it('refuses -f with --kubeconfig, and --watch or --context without it', async () => {
    const kubeconfig = clusters.get('nodeport')!.kubeconfig
    await expect(runRulesCommand(['-f', join(fixturesDir, 'nodeport.yaml'), '--kubeconfig', kubeconfig])).rejects.toMatchObject({ code: 'KPE_USAGE' })
    await expect(runRulesCommand(['-f', join(fixturesDir, 'nodeport.yaml'), '--watch'])).rejects.toMatchObject({ code: 'KPE_USAGE' })
    await expect(runRulesCommand(['-f', join(fixturesDir, 'nodeport.yaml'), '--context', 'x'])).rejects.toMatchObject({ code: 'KPE_USAGE' })
  })
})
