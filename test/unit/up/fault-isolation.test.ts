/**
 * Fault injection (issue 10, isolation): objects that validation would refuse are written straight
 * into the store, bypassing the API. The node agents and controllers skip and report them (with
 * kind and namespace/name) and keep programming every other Service; nothing ends the process.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { EndpointSlice, Node, Pod, Service } from '../../../src/api/index.js'
import { startControlPlane, type ControlPlane } from '../../../src/cluster/index.js'
import { resources } from '../../../src/controllers/index.js'
import { renderIptablesSave } from '../../../src/proxy/netfilter/index.js'
import { mathRandomSource, startNodeAgents, systemClock, systemTimers, type NodeAgents } from '../../../src/proxy/userspace/index.js'
import type { KubeObject } from '../../../src/store/index.js'
import { storeObjectSource } from '../../../src/up/store-source.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function cluster(): Promise<{ cp: ControlPlane; agents: NodeAgents; logs: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'kpe-fault-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const cp = await startControlPlane({ dataDir: dir, port: 0 })
  cleanups.push(() => cp.stop())
  const logs: string[] = []
  const agents = await startNodeAgents({
    nodes: cp.store.list('nodes').items as unknown as Node[],
    pods: storeObjectSource<Pod>(cp.store, 'pods'),
    services: storeObjectSource<Service>(cp.store, 'services'),
    endpointSlices: storeObjectSource<EndpointSlice>(cp.store, 'endpointslices.discovery.k8s.io'),
    status: { async writeStatus() {}, async finalizeDeletion() {} },
    timers: systemTimers, clock: systemClock, random: mathRandomSource,
    nodeLoopbackPrefix: '127.0.0.', minSyncPeriodMs: 5, log: (l) => logs.push(l),
  })
  cleanups.push(() => agents.stop())
  return { cp, agents, logs }
}

function service(name: string, ip: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], ...spec } }
}

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!cond() && Date.now() < deadline) await sleep(10)
  return cond()
}

const rulesOf = (agents: NodeAgents): string[] => [...agents.executors.values()].map((e) => renderIptablesSave(e.table()))

describe('a bad object in the store stays local', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['externalIPs: [1]', { externalIPs: [1] }],
    ['externalIPs: "x"', { externalIPs: 'x' }],
    ['ports: [null]', { ports: [null] }],
    ['ports: [42]', { ports: [42] }],
    ['clusterIP: 1234', { clusterIP: 1234, clusterIPs: [1234] }],
    ['loadBalancerSourceRanges: [7]', { type: 'LoadBalancer', loadBalancerSourceRanges: [7] }],
  ]
  it.each(bad)('a Service with %s is skipped and reported; the others still get rules and the index', async (_label, spec) => {
    const { cp, agents, logs } = await cluster()
    await cp.store.create(resources.services.resource, service('bad', '10.96.0.50', spec))
    await cp.store.create(resources.services.resource, service('good', '10.96.0.51'))
    const ok = await until(() => rulesOf(agents).every((t) => t.includes("default/good:http")))
    if (!ok) console.log(logs.slice(0, 5))
    expect(ok).toBe(true)
    await agents.proxy.refresh()
    expect(agents.proxy.dataplane.index.services.get('good.default')).toEqual(['10.96.0.51'])
    expect(logs.some((l) => l.includes('Service default/bad'))).toBe(true)
    // later changes still flow: a second good Service after the bad one
    await cp.store.create(resources.services.resource, service('later', '10.96.0.52'))
    expect(await until(() => rulesOf(agents).every((t) => t.includes('default/later:http')))).toBe(true)
  })
})
