/**
 * @kubernetes/client-node 1.4 (pinned: 2.x needs Node 22) as a client of kpe's control plane:
 * typed calls, the generic object API with server-side apply, JSON patch, scale, and an
 * informer that sees a change.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as k8s from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startControlPlane, type ControlPlane } from '../../src/cluster/index.js'
import { e2eControlPlaneStore } from './kpe-up-store.js'

let work = ''
let cp: ControlPlane
/** KPE_E2E_STORE=etcd: on a real etcd started for this file. */
let store: Awaited<ReturnType<typeof e2eControlPlaneStore>> | undefined
let kc: k8s.KubeConfig

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kpe-client-node-'))
  store = await e2eControlPlaneStore(work)
  cp = await startControlPlane({ dataDir: join(work, 'data'), port: 0, fakeKubelet: { terminationDelayMs: 100 }, ...store.options })
  kc = new k8s.KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'kpe', server: cp.url, skipTLSVerify: true }],
    users: [{ name: 'kpe' }],
    contexts: [{ name: 'kpe', cluster: 'kpe', user: 'kpe' }],
    currentContext: 'kpe',
  })
})

afterAll(async () => {
  await cp?.stop()
  await store?.stop()
  await rm(work, { recursive: true, force: true })
})

describe('@kubernetes/client-node against kpe', () => {
  it('creates a Service through the typed API and gets a ClusterIP from the service CIDR', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api)
    const svc = await core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    })
    expect(svc.spec?.clusterIP).toMatch(/^10\.(9[6-9]|1[01]\d)\./)
    expect(svc.spec?.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30000)
    const list = await core.listNamespacedService({ namespace: 'default' })
    expect(list.items.map((s) => s.metadata?.name)).toContain('web')
  })

  it('applies a Deployment server-side with the generic object API, then scales it', async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc)
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 8080 }] }] } },
      },
    }
    await objects.patch(deployment, undefined, undefined, 'client-node-test', true, k8s.PatchStrategy.ServerSideApply)
    const apps = kc.makeApiClient(k8s.AppsV1Api)
    const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: 'default' })
    expect(scale.spec?.replicas).toBe(2)
    // Without a resourceVersion the update is unconditional, as `kubectl scale` sends it: the
    // Deployment controller may have written status since the read.
    const { resourceVersion: _rv, ...metadata } = scale.metadata ?? {}
    await apps.replaceNamespacedDeploymentScale({ name: 'web', namespace: 'default', body: { ...scale, metadata, spec: { replicas: 3 } } })
    const after = await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' })
    expect(after.spec?.replicas).toBe(3)
  })

  it('patches with JSON patch (client-node default) and reports a 404 as ApiException', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api)
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cm' }, data: { a: '1' } } })
    const patched = await core.patchNamespacedConfigMap({ name: 'cm', namespace: 'default', body: [{ op: 'replace', path: '/data/a', value: '2' }] })
    expect(patched.data).toEqual({ a: '2' })
    await expect(core.readNamespacedConfigMap({ name: 'missing', namespace: 'default' })).rejects.toMatchObject({ code: 404 })
  })

  it('an informer lists, then sees EndpointSlices follow the Deployment\'s pods', async () => {
    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api)
    const informer = k8s.makeInformer(kc, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', () =>
      discovery.listNamespacedEndpointSlice({ namespace: 'default' }))
    const seen = new Promise<number>((resolve) => {
      const check = (s: k8s.V1EndpointSlice): void => {
        const ready = (s.endpoints ?? []).filter((e) => e.conditions?.ready).length
        if (s.metadata?.labels?.['kubernetes.io/service-name'] === 'web' && ready === 3) resolve(ready)
      }
      informer.on('add', check)
      informer.on('update', check)
    })
    await informer.start()
    try {
      expect(await seen).toBe(3)
    } finally {
      await informer.stop()
    }
  }, 30_000)
})
