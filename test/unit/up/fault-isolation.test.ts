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
import { ListWatcher } from '../../../src/client/index.js'
import { renderIptablesSave } from '../../../src/proxy/netfilter/index.js'
import { mathRandomSource, systemClock, realTimers } from '../../../src/runtime/index.js'
import { startNodeAgents, type NodeAgents } from '../../../src/node/index.js'
import type { KubeObject } from '../../../src/store/index.js'
import { storeObjectSource } from '../../../src/up/store-source.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function cluster(before?: (cp: ControlPlane) => Promise<void>): Promise<{ cp: ControlPlane; agents: NodeAgents; logs: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'kpe-fault-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const cp = await startControlPlane({ dataDir: dir, port: 0 })
  cleanups.push(() => cp.stop())
  await before?.(cp)
  const logs: string[] = []
  const agents = await startNodeAgents({
    nodes: cp.store.list('nodes').items as unknown as Node[],
    pods: storeObjectSource<Pod>(cp.store, 'pods'),
    services: storeObjectSource<Service>(cp.store, 'services'),
    endpointSlices: storeObjectSource<EndpointSlice>(cp.store, 'endpointslices.discovery.k8s.io'),
    status: { async writeStatus() {}, async finalizeDeletion() {} },
    timers: realTimers, clock: systemClock, random: mathRandomSource,
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
    expect(await until(() => rulesOf(agents).every((t) => t.includes('default/good:http')))).toBe(true)
    await agents.proxy.refresh()
    expect(agents.proxy.dataplane.index.services.get('good.default')).toEqual(['10.96.0.51'])
    expect(logs.some((l) => l.includes('Service default/bad'))).toBe(true)
    // later changes still flow: a second good Service after the bad one
    await cp.store.create(resources.services.resource, service('later', '10.96.0.52'))
    expect(await until(() => rulesOf(agents).every((t) => t.includes('default/later:http')))).toBe(true)
  })
})

function pod(name: string, status: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { nodeName: 'no-such-node', containers: [{ name: 'c', image: 'x' }] }, status }
}

function slice(name: string, service: string, endpoints: unknown): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4', endpoints, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }
}

describe('bad Pods and EndpointSlices in the store stay local', () => {
  it.each([
    ['podIP: 5', { podIP: 5 }],
    ['podIPs: [null]', { podIPs: [null] }],
    ['podIPs: "x"', { podIPs: 'x' }],
  ])('a Pod with status %s is left out of the cluster index and reported; Services keep working', async (_label, status) => {
    const { cp, agents, logs } = await cluster()
    await cp.store.create('pods', pod('bad', status))
    await cp.store.create('pods', pod('good', { podIP: '10.244.0.9', podIPs: [{ ip: '10.244.0.9' }] }))
    await cp.store.create(resources.services.resource, service('good', '10.96.0.51'))
    expect(await until(() => rulesOf(agents).every((t) => t.includes('default/good:http')))).toBe(true)
    expect(await until(() => agents.proxy.dataplane.index.pods.has('default/good'))).toBe(true)
    expect(logs.some((l) => l.includes('Pod default/bad'))).toBe(true)
  })

  it('a Service whose EndpointSlice has endpoints: [null] is left out; the other Services get rules', async () => {
    const { cp, agents, logs } = await cluster()
    await cp.store.create(resources.services.resource, service('bad', '10.96.0.50'))
    await cp.store.create('endpointslices.discovery.k8s.io', slice('bad-1', 'bad', [null]))
    await cp.store.create(resources.services.resource, service('good', '10.96.0.51'))
    await cp.store.create('endpointslices.discovery.k8s.io', slice('good-1', 'good', [{ addresses: ['10.244.0.9'], conditions: { ready: true } }]))
    expect(await until(() => rulesOf(agents).every((t) => t.includes('default/good:http') && t.includes('10.244.0.9:8080')))).toBe(true)
    expect(await until(() => logs.some((l) => l.includes('Service default/bad left out')))).toBe(true)
  })
})

describe('a change handler that throws', () => {
  it('is reported with the kind and key, and the watch keeps delivering later objects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kpe-fault-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const cp = await startControlPlane({ dataDir: dir, port: 0 })
    cleanups.push(() => cp.stop())
    const seen: string[] = []
    const errors: string[] = []
    const watcher = new ListWatcher<Service>(storeObjectSource<Service>(cp.store, 'services'), {
      change: (_p, c) => {
        if (c?.metadata.name === 'boom') throw new TypeError('cannot read')
        if (c) seen.push(c.metadata.name ?? '')
      },
      error: (e) => errors.push(e instanceof Error ? e.message : String(e)),
    }, { timers: realTimers, kind: 'Service' })
    await watcher.start()
    cleanups.push(async () => watcher.stop())
    await cp.store.create(resources.services.resource, service('boom', '10.96.0.50'))
    await cp.store.create(resources.services.resource, service('after', '10.96.0.51'))
    expect(await until(() => seen.includes('after'))).toBe(true)
    expect(errors).toEqual(['Service default/boom: cannot read'])
  })
})

describe('a bad Node in the store at startup', () => {
  it.each([
    ['status.addresses: "x"', { addresses: 'x' }],
    ['status.addresses: [null]', { addresses: [null] }],
  ])('with %s gets no agents and is reported; the other nodes start and program Services', async (_label, status) => {
    const { cp, agents, logs } = await cluster(async (cp) => {
      await cp.store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'aaa-bad', uid: 'uid-bad' }, spec: { podCIDRs: ['10.244.9.0/24'] }, status } as KubeObject)
    })
    expect(agents.proxiers.has('aaa-bad')).toBe(false)
    expect(agents.proxiers.size).toBeGreaterThan(0)
    expect(logs.some((l) => l.includes('Node aaa-bad skipped'))).toBe(true)
    await cp.store.create(resources.services.resource, service('good', '10.96.0.51'))
    expect(await until(() => rulesOf(agents).every((t) => t.includes('default/good:http')))).toBe(true)
  })
})

describe('a node agent set that fails to start', () => {
  it('stops what it had started (pods, proxiers) before reporting the failure', async () => {
    const { createServer } = await import('node:net')
    const taken = createServer()
    const port = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)))
    cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())))
    const dir = await mkdtemp(join(tmpdir(), 'kpe-fault-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const cp = await startControlPlane({ dataDir: dir, port: 0 })
    cleanups.push(() => cp.stop())
    const nodes = cp.store.list('nodes').items as unknown as Node[]
    await cp.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'uid-p' }, spec: { nodeName: nodes[0]!.metadata.name, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80 }] }] } } as KubeObject)
    const logs: string[] = []
    await expect(startNodeAgents({
      nodes,
      pods: storeObjectSource<Pod>(cp.store, 'pods'),
      services: storeObjectSource<Service>(cp.store, 'services'),
      endpointSlices: storeObjectSource<EndpointSlice>(cp.store, 'endpointslices.discovery.k8s.io'),
      status: { async writeStatus() {}, async finalizeDeletion() {} },
      timers: realTimers, clock: systemClock, random: mathRandomSource,
      nodeLoopbackPrefix: '127.0.0.', socksPort: port, log: (l) => logs.push(l),
    })).rejects.toThrow(/EADDRINUSE/)
    expect(await until(() => logs.some((l) => l.includes('default/p stopped')))).toBe(true)
  })
})
