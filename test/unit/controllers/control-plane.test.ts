/**
 * The control plane in process (memory-speed, real durable store in a temp dir): admission
 * allocators under concurrency, dry runs, node IPAM immutability, graceful deletion with its
 * expiry, and the kpe up / kpe kubeconfig commands.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ApiError } from '../../../src/apiserver/index.js'
import { startControlPlane, type ControlPlane } from '../../../src/cluster/index.js'
import { resources } from '../../../src/controllers/index.js'
import { runKubeconfigCommand } from '../../../src/cli/kubeconfig-command.js'
import { runUpCommand } from '../../../src/cli/up-command.js'
import type { KubeObject } from '../../../src/store/index.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kpe-cp-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function controlPlane(extra: Partial<Parameters<typeof startControlPlane>[0]> = {}): Promise<ControlPlane> {
  const cp = await startControlPlane({ dataDir: await tempDir(), port: 0, ...extra })
  cleanups.push(() => cp.stop())
  return cp
}

function service(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 80 }], ...spec } }
}

describe('control plane admission', () => {
  it('gives concurrent creates distinct ClusterIPs and NodePorts', async () => {
    const cp = await controlPlane()
    const made = await Promise.all(Array.from({ length: 40 }, (_, i) => cp.client.create(resources.services, service(`s${i}`, { type: 'NodePort' }))))
    const ips = made.map((s) => (s['spec'] as { clusterIP: string }).clusterIP)
    const ports = made.map((s) => (s['spec'] as { ports: { nodePort: number }[] }).ports[0]?.nodePort)
    expect(new Set(ips).size).toBe(40)
    expect(new Set(ports).size).toBe(40)
  })

  it('frees the values of a deleted Service and of a rejected request', async () => {
    const cp = await controlPlane()
    await cp.client.create(resources.services, service('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30500 }] }))
    await expect(cp.client.create(resources.services, service('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30500 }] }))).rejects.toMatchObject({ code: 422 })
    // rejected by validation after admission ran: nothing stays reserved
    await expect(cp.client.create(resources.services, service('Bad', { type: 'NodePort', ports: [{ port: 80, nodePort: 30600 }] }))).rejects.toMatchObject({ code: 422 })
    expect((await cp.client.create(resources.services, service('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 30600 }] })))['spec']).toMatchObject({ ports: [{ nodePort: 30600 }] })
    await cp.client.delete(resources.services, 'default', 'a')
    expect((await cp.client.create(resources.services, service('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30500 }] })))['spec']).toMatchObject({ ports: [{ nodePort: 30500 }] })
  })

  it('refuses to change a Node’s pod CIDR, and keeps it when an update omits it', async () => {
    const cp = await controlPlane()
    const node = cp.store.get({ resource: 'nodes', namespace: '', name: 'node-a' })!
    const spec = node['spec'] as { podCIDR: string }
    expect(spec.podCIDR).toBe('10.244.0.0/24')
    const err = await cp.client.update(resources.nodes, { ...node, spec: { podCIDR: '10.244.9.0/24', podCIDRs: ['10.244.9.0/24'] } }).catch((e: unknown) => e) as ApiError
    expect(err.message).toMatch(/spec\.podCIDRs: Forbidden: node updates may not change podCIDR/)
    const kept = await cp.client.update(resources.nodes, { ...node, spec: {} })
    expect(kept['spec']).toMatchObject({ podCIDR: '10.244.0.0/24' })
  })

  it('deletes a scheduled Pod gracefully and removes it when its grace period ends', async () => {
    const cp = await controlPlane()
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'x' }] } }
    await cp.client.create(resources.pods, pod)
    await cp.controllers.idle()
    expect((cp.store.get({ resource: 'pods', namespace: 'default', name: 'p' })!['spec'] as { nodeName?: string }).nodeName).toBe('node-a')
    const terminating = await cp.client.delete(resources.pods, 'default', 'p')
    expect(terminating.metadata.deletionTimestamp).toBeDefined()
    expect(terminating.metadata['deletionGracePeriodSeconds']).toBe(1)
    expect(cp.store.get({ resource: 'pods', namespace: 'default', name: 'p' })).toBeDefined()
    await new Promise((r) => setTimeout(r, 1500))
    expect(cp.store.get({ resource: 'pods', namespace: 'default', name: 'p' })).toBeUndefined()
  })
})

describe('kpe up --control-plane-only and kpe kubeconfig', () => {
  it('starts, applies -f manifests, prints the address and kubeconfig, and stops on a signal', async () => {
    const dir = await tempDir()
    const file = join(dir, 'svc.yaml')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(file, 'apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec:\n  type: NodePort\n  ports: [{ port: 80 }]\n')
    let out = ''
    let stop: (s: string) => void = () => {}
    const running = runUpCommand(['--control-plane-only', '--data-dir', join(dir, 'data'), '--port', '0', '-f', file], {
      write: (t) => { out += t },
      waitForStop: () => new Promise((resolve) => { stop = resolve }),
    })
    for (let i = 0; i < 100 && !out.includes('applied'); i++) await new Promise((r) => setTimeout(r, 20))
    expect(out).toMatch(/^kpe control plane listening on http:\/\/127\.0\.0\.1:\d+\nkubeconfig: .*kubeconfig\n/)
    expect(out).toMatch(/service\/web applied/)
    const kubeconfig = await runKubeconfigCommand(['--data-dir', join(dir, 'data')])
    const url = /listening on (\S+)/.exec(out)?.[1]
    expect(kubeconfig).toContain(`server: ${url}`)
    const svc = await (await fetch(`${url}/api/v1/namespaces/default/services/web`)).json() as { spec: { ports: { nodePort: number }[] } }
    expect(svc.spec.ports[0]?.nodePort).toBe(30000)
    stop('SIGTERM')
    expect(await running).toBe('')
    expect(out).toMatch(/SIGTERM received, stopping/)
    await expect(runKubeconfigCommand(['--data-dir', join(dir, 'data')])).rejects.toMatchObject({ code: 'KPE_NOT_FOUND' })
  })

  it('refuses a bad flag, and reports a bad manifest with its location', async () => {
    await expect(runUpCommand(['--control-plane-only', '--port', 'http'])).rejects.toMatchObject({ code: 'KPE_USAGE' })
    const dir = await tempDir()
    const { writeFile } = await import('node:fs/promises')
    const file = join(dir, 'bad.yaml')
    await writeFile(file, 'apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec:\n  clusterIP: 10.0.0.1\n  ports: [{ port: 80 }]\n')
    await expect(runUpCommand(['--control-plane-only', '--data-dir', join(dir, 'data'), '--port', '0', '-f', file], { write: () => {}, waitForStop: () => Promise.resolve('SIGINT') }))
      .rejects.toMatchObject({ code: 'KPE_INPUT', message: expect.stringMatching(/bad\.yaml, document 1 \(Service web\): Service "web" is invalid: spec\.clusterIPs\[0\]/) })
  })
})
