/**
 * The startup race of issue 10 (item 9): objects written while the node agents start (the
 * kubectl apply that follows the first /version answer) must all reach every node's rules.
 * Control plane, store and node agents run in process; random delays go between the steps and
 * into list answers and watch delivery (in order, as a watch delivers), 50 runs per test.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Node, Pod, Service } from '../../../src/api/index.js'
import { resources } from '../../../src/controllers/index.js'
import { applyManifestDocuments, parseManifestDocuments, startControlPlane } from '../../../src/cluster/index.js'
import type { ObjectSource } from '../../../src/client/index.js'
import { defaultKubeProxyConfiguration } from '../../../src/api/index.js'
import { buildIptablesRules, savedView, sortIptablesRestore } from '../../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { renderIptablesSave } from '../../../src/proxy/netfilter/index.js'
import { mathRandomSource, systemClock, realTimers } from '../../../src/runtime/index.js'
import { startNodeAgents } from '../../../src/node/index.js'
import { storeObjectSource } from '../../../src/up/store-source.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const manifest = `
apiVersion: v1
kind: Namespace
metadata: {name: race}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: race}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: agnhost, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web-cip, namespace: race}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-np, namespace: race}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-lb, namespace: race}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A source whose list answers late and whose watch delivers each event late, in order. */
function delayed<T>(inner: ObjectSource<T>, delay: () => number): ObjectSource<T> {
  return {
    list: async () => {
      const listed = await inner.list()
      await sleep(delay())
      return listed
    },
    watch(rv, handlers) {
      let chain = Promise.resolve()
      let stopped = false
      const later = (fn: () => void): void => {
        const ms = delay()
        chain = chain.then(() => sleep(ms)).then(() => { if (!stopped) fn() })
      }
      const w = inner.watch(rv, { event: (ev) => later(() => handlers.event(ev)), error: (err) => later(() => handlers.error(err)) })
      return { stop: () => { stopped = true; w.stop() } }
    },
  }
}

async function runOnce(seed: number, dir: string): Promise<string[]> {
  const rnd = seededRandom(seed)
  const delay = (): number => (rnd.next() < 0.5 ? 0 : Math.floor(rnd.next() * 8))
  const cp = await startControlPlane({ dataDir: join(dir, String(seed)), port: 0 })
  const nodes = cp.store.list('nodes').items as unknown as Node[]
  const applied = (async () => {
    await sleep(Math.floor(rnd.next() * 30))
    await applyManifestDocuments(cp.client, parseManifestDocuments(manifest, 'race.yaml'))
  })()
  const agents = await startNodeAgents({
    nodes,
    pods: delayed(storeObjectSource<Pod>(cp.store, 'pods'), delay),
    services: delayed(storeObjectSource<Service>(cp.store, 'services'), delay),
    endpointSlices: delayed(storeObjectSource<EndpointSlice>(cp.store, 'endpointslices.discovery.k8s.io'), delay),
    status: {
      async writeStatus(pod, status) {
        await sleep(delay())
        for (let i = 0; ; i++) {
          const current = cp.store.get({ resource: 'pods', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '' })
          if (!current) return
          try {
            await cp.client.updateStatus(resources.pods, { ...current, status } as never)
            return
          } catch (err) {
            if (i > 5) throw err
            await cp.store.settled()
          }
        }
      },
      async finalizeDeletion() {},
    },
    timers: realTimers, clock: systemClock, random: mathRandomSource,
    nodeLoopbackPrefix: '127.0.0.', minSyncPeriodMs: 5,
  })
  try {
    await applied
    await cp.controllers.idle()
    // Each node's tables, once settled, are what a from-scratch build of the store's objects gives.
    const missing = (): string[] => {
      const services = cp.store.list('services').items as unknown as Service[]
      const slices = cp.store.list('endpointslices.discovery.k8s.io').items as unknown as EndpointSlice[]
      const out: string[] = []
      for (const node of nodes) {
        const name = node.metadata.name ?? ''
        const config = resolveProxierConfig({ config: defaultKubeProxyConfiguration(), ipFamily: 'IPv4', node, nodeName: name })
        const want = sortIptablesRestore(renderIptablesSave(savedView(buildIptablesRules({ state: buildProxyState(services, slices, 'IPv4', name), config }))))
        const have = sortIptablesRestore(renderIptablesSave(agents.executors.get(name)!.table()))
        if (have !== want) out.push(`${name}: rules differ from a fresh build (${['web-cip', 'web-np', 'web-lb'].filter((s) => !have.includes(`race/${s}`)).join(' ') || 'endpoints'})`)
      }
      return out
    }
    const deadline = Date.now() + 2000
    while (missing().length > 0 && Date.now() < deadline) await sleep(20)
    return missing()
  } finally {
    await agents.stop()
    await cp.stop()
  }
}

describe('startup race (issue 10, item 9)', () => {
  it('programs every Service written while the node agents start, in 50 randomized runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kpe-race-'))
    try {
      const lost: string[] = []
      for (let seed = 1; seed <= 50; seed++) {
        const m = await runOnce(seed, dir)
        if (m.length > 0) lost.push(`seed ${seed}: ${m.join(', ')}`)
      }
      expect(lost).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
