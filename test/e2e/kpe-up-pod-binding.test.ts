/**
 * A third-party scheduler against the real `kpe up`: a Pod with `schedulerName: other` is left
 * alone by kpe's scheduler, bound by @kubernetes/client-node's createNamespacedPodBinding
 * (POST pods/NAME/binding with the kubeconfig's credentials), then runs on that node as the real
 * kubectl shows it. A second Binding is a 409. `kubectl create -f` of a Binding binds through the
 * deprecated bindings resource. Only loopback addresses are dialled.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as k8s from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { hasKubectl, kpeUpForFile, kubectlPath } from './kpe-up-process.js'

const cluster = kpeUpForFile()
if (!hasKubectl) {
  if (process.env['CI']) throw new Error(`pods/binding e2e: ${kubectlPath} is missing`)
  console.warn(`skipping the pods/binding e2e: ${kubectlPath} is missing`)
}

const pod = (name: string): k8s.V1Pod => ({
  metadata: { name },
  spec: {
    schedulerName: 'other',
    containers: [{ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080 }] }],
  },
})

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe.runIf(hasKubectl)('a third-party scheduler binds through pods/binding', () => {
  it('binds a schedulerName: other Pod to the node it names; the Pod runs there; a second Binding is refused', async () => {
    const loaded = new k8s.KubeConfig()
    loaded.loadFromFile(cluster.up.kubeconfig)
    // kpe up serves plain HTTP on loopback, which client-node allows only with skipTLSVerify; the credentials are the kubeconfig's
    const kc = new k8s.KubeConfig()
    kc.loadFromOptions({
      clusters: loaded.clusters.map((c) => ({ ...c, skipTLSVerify: c.server.startsWith('http:') || c.skipTLSVerify })),
      users: loaded.users, contexts: loaded.contexts, currentContext: loaded.currentContext,
    })
    expect(kc.getCurrentCluster()?.server).toMatch(/^https?:\/\/127\.0\.0\.1:\d+$/)
    const core = kc.makeApiClient(k8s.CoreV1Api)
    const nodes = (await cluster.ok('get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}')).trim().split(/\s+/).sort()
    expect(nodes.length).toBeGreaterThan(1)
    // the last node by name: kpe's own scheduler, spreading an empty cluster, would pick the first
    const node = nodes[nodes.length - 1]!
    const created = await core.createNamespacedPod({ namespace: 'default', body: pod('picked') })

    // kpe's scheduler leaves it alone: still unbound after a scheduling round has had time to run
    await new Promise((r) => setTimeout(r, 1_500))
    expect((await core.readNamespacedPod({ namespace: 'default', name: 'picked' })).spec?.nodeName).toBeUndefined()

    await core.createNamespacedPodBinding({
      namespace: 'default', name: 'picked',
      body: { metadata: { name: 'picked', uid: created.metadata?.uid }, target: { kind: 'Node', name: node } },
    })
    const wide = await until('the bound Pod to be Running', async () => {
      const out = await cluster.ok('get', 'pod', 'picked', '-o', 'wide', '--no-headers')
      return /\sRunning\s/.test(out) ? out : undefined
    })
    expect(wide.trim().split(/\s+/)[6]).toBe(node)
    const bound = await core.readNamespacedPod({ namespace: 'default', name: 'picked' })
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'True' })

    const again = core.createNamespacedPodBinding({ namespace: 'default', name: 'picked', body: { metadata: { name: 'picked' }, target: { kind: 'Node', name: nodes[0]! } } })
    await expect(again).rejects.toMatchObject({ code: 409 })
    expect((await core.readNamespacedPod({ namespace: 'default', name: 'picked' })).spec?.nodeName).toBe(node)
  }, 60_000)

  it('kubectl create -f of a Binding binds the Pod it names (the deprecated bindings resource)', async () => {
    const nodes = (await cluster.ok('get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}')).trim().split(/\s+/).sort()
    const node = nodes[0]!
    const manifest = join(cluster.up.dataDir, 'binding.yaml')
    writeFileSync(manifest, `apiVersion: v1
kind: Pod
metadata: { name: by-kubectl }
spec:
  schedulerName: other
  containers: [{ name: agnhost, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [netexec, --http-port=8080] }]
`)
    await cluster.ok('create', '-f', manifest)
    writeFileSync(manifest, `apiVersion: v1\nkind: Binding\nmetadata: { name: by-kubectl }\ntarget: { kind: Node, name: ${node} }\n`)
    // the answer is a Success Status, as kube-apiserver's, not an object: kubectl prints `status/<unknown> created`
    expect(await cluster.ok('create', '-f', manifest)).toMatch(/ created$/m)
    const wide = await until('the Pod bound by kubectl to be Running', async () => {
      const out = await cluster.ok('get', 'pod', 'by-kubectl', '-o', 'wide', '--no-headers')
      return /\sRunning\s/.test(out) ? out : undefined
    })
    expect(wide.trim().split(/\s+/)[6]).toBe(node)
    const again = await cluster.up.kubectl('create', '-f', manifest)
    expect(again.code).not.toBe(0)
    expect(again.stderr).toContain('Operation cannot be fulfilled on pods/binding "by-kubectl": pod by-kubectl is already assigned to node')
  }, 60_000)

  it('discovery shows pods/binding to kubectl, create only', async () => {
    const out = await cluster.ok('api-resources', '--api-group=', '-o', 'wide')
    expect(out).toMatch(/^bindings\s+v1\s+true\s+Binding\s+create\b/m)
  })
})
