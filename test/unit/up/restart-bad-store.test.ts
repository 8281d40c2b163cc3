/**
 * `kpe up` starts on a data dir whose store holds objects validation would refuse (written by an
 * older kpe, or a path validation missed): startCluster succeeds, reports each bad object with
 * its key (the load check skips it), and programs every other Service (issue 10: "dies again on every restart").
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultClusterConfig } from '../../../src/cluster/index.js'
import { renderIptablesSave } from '../../../src/proxy/netfilter/index.js'
import { openDurableStore, type KubeObject } from '../../../src/store/index.js'
import { startCluster } from '../../../src/up/start-cluster.js'

const svc = (name: string, ip: string, spec: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec } })

describe('kpe up on a data dir with bad objects', () => {
  it('starts, reports them with their keys, and programs the other Services', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kpe-restart-'))
    try {
      const store = await openDurableStore({ dataDir: join(dir, 'store') })
      await store.create('services', svc('bad-ips', '10.96.0.50', { externalIPs: [1] }))
      await store.create('services', svc('bad-ports', '10.96.0.51', { ports: [null] }))
      await store.create('services', svc('good', '10.96.0.52'))
      await store.create('endpointslices.discovery.k8s.io', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'good-x', namespace: 'default', labels: { 'kubernetes.io/service-name': 'good' } }, addressType: 'IPv4', endpoints: [null], ports: [] } as unknown as KubeObject)
      await store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad-pod', namespace: 'default', uid: 'uid-p', ownerReferences: [null] }, spec: { containers: [{ name: 'c', image: 'x' }] }, status: { podIP: 5, podIPs: [null] } } as unknown as KubeObject)
      await store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'bad-node', uid: 'uid-n' }, spec: {}, status: { addresses: 'x', conditions: [null] } } as unknown as KubeObject)
      await store.close()
      const logs: string[] = []
      const c = await startCluster({ dataDir: dir, apiPort: 0, config: defaultClusterConfig(), manifests: [], socksPort: 0, httpProxyPort: 0, metricsPort: 0, nodeLoopbackPrefix: '127.0.0.', log: (l) => logs.push(l) })
      try {
        const programmed = (): boolean => [...c.agents.executors.values()].every((e) => renderIptablesSave(e.table()).includes('default/good:http'))
        const deadline = Date.now() + 5000
        while (!programmed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
        expect(programmed()).toBe(true)
        // the store's load check skips them first (the node agents' own isolation is held by fault-isolation.test.ts)
        for (const key of ['services default/bad-ips', 'services default/bad-ports', 'pods default/bad-pod', 'nodes bad-node', 'endpointslices.discovery.k8s.io default/good-x']) {
          expect(logs.some((l) => l.includes(`skipped ${key} `)), key).toBe(true)
        }
      } finally {
        await c.stop()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 30_000)
})
