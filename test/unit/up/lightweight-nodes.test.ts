/**
 * Lightweight nodes (kpe up --nodes): the added nodes' names and addresses, the real/lightweight
 * split, the per-node pod IP index, and in process: one heartbeat loop keeps every Lease fresh,
 * the fake kubelet gives lightweight pods unique IPs from their node's podCIDR and leaves real nodes' pods alone.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { Pod } from '../../../src/api/index.js'
import { runUpCommand } from '../../../src/cli/up-command.js'
import { defaultClusterConfig, parseClusterConfig, scaleNodeConfigs, scaleNodeName, startControlPlane, withScaleNodes, type ControlPlane } from '../../../src/cluster/index.js'
import { FakeKubelet, NodePodIPs, resources } from '../../../src/controllers/index.js'
import { LightweightNodeHeartbeats } from '../../../src/kubelet/index.js'
import { cidrContains, parseCidr, type IPAddress } from '../../../src/net/index.js'
import { realTimers, systemClock } from '../../../src/runtime/index.js'
import type { KubeObject } from '../../../src/store/index.js'
import { splitRealNodes } from '../../../src/up/lightweight-nodes.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const never = { write: () => {}, waitForStop: () => Promise.resolve('SIGINT') }

describe('the added nodes', () => {
  it('are named node-0000... and get distinct InternalIPs outside every cluster range', () => {
    const added = scaleNodeConfigs(defaultClusterConfig(), 3)
    expect(added.map((n) => [n.name, n.internalIPs])).toEqual([['node-0000', ['172.16.0.10']], ['node-0001', ['172.16.0.11']], ['node-0002', ['172.16.0.12']]])
    expect(scaleNodeName(7, 12_000)).toBe('node-00007')
  })

  it('skip names and addresses the configuration already has', () => {
    const config = parseClusterConfig('nodes: [{ name: node-0000, internalIP: 172.16.0.11 }]')
    expect(scaleNodeConfigs(config, 2).map((n) => [n.name, n.internalIPs[0]])).toEqual([['node-0001', '172.16.0.10'], ['node-0002', '172.16.0.12']])
  })

  it('are refused when the cluster CIDR cannot give each a pod subnet, with the fix in the hint', () => {
    expect(() => withScaleNodes(defaultClusterConfig(), 254)).toThrow(/--nodes 254: 257 nodes, but clusterCIDR 10.244.0.0\/16 with nodeCIDRMaskSize 24 holds 256 node subnets/)
    const wide = parseClusterConfig('clusterCIDR: 10.240.0.0/12')
    expect(withScaleNodes(wide, 1_000).nodes).toHaveLength(1_003)
  })

  it('never collide with each other or the configured nodes (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), (n) => {
      const config = parseClusterConfig('clusterCIDR: 10.240.0.0/12')
      const all = withScaleNodes(config, n).nodes
      expect(new Set(all.map((x) => x.name)).size).toBe(all.length)
      expect(new Set(all.flatMap((x) => x.internalIPs)).size).toBe(all.length)
    }), { seed: 3, numRuns: 20 })
  })
})

describe('kpe up --nodes and --real-nodes flags', () => {
  it.each([
    [['--nodes', 'many'], /--nodes many: not a whole number/],
    [['--nodes', '0'], /--nodes 0/],
    [['--nodes', '300'], /clusterCIDR 10.244.0.0\/16 .* holds 256 node subnets/],
    [['--real-nodes', ','], /--real-nodes: name at least one node/],
    [['--nodes', '5', '--control-plane-only'], /--nodes starts node agents/],
  ])('%j is a usage error before anything starts', async (args, message) => {
    const dir = await mkdtemp(join(tmpdir(), 'kpe-scale-flags-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    await expect(runUpCommand(['--data-dir', join(dir, 'data'), '--port', '0', ...args], never)).rejects.toMatchObject({ code: 'KPE_USAGE', message: expect.stringMatching(message) })
  })

  it('splits real from lightweight nodes, refusing names the cluster does not have', () => {
    expect(splitRealNodes(['a', 'b', 'n1', 'n2'], undefined, ['a', 'b', 'c'])).toEqual({ real: ['a', 'b'], lightweight: ['n1', 'n2'] })
    expect(splitRealNodes(['a', 'n1'], ['n1'], ['a'])).toEqual({ real: ['n1'], lightweight: ['a'] })
    expect(() => splitRealNodes(['a'], ['zz'], ['a'])).toThrow(/--real-nodes: no Node named "zz"/)
  })
})

describe('NodePodIPs', () => {
  const pod = (name: string, node?: string, ip?: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [], ...(node ? { nodeName: node } : {}) }, ...(ip ? { status: { podIP: ip, podIPs: [{ ip }] } } : {}) }) as Pod

  it('holds a reservation until the Pod goes, and frees its address then', () => {
    const ips = new NodePodIPs()
    ips.reserve('default/a', 'n1', ['10.0.0.2'])
    ips.observe(pod('a', 'n1'))
    expect([...ips.taken('n1')]).toEqual(['10.0.0.2'])
    ips.observe(pod('b', 'n1', '10.0.0.3'))
    expect([...ips.taken('n1')].sort()).toEqual(['10.0.0.2', '10.0.0.3'])
    ips.forget('default/a')
    expect([...ips.taken('n1')]).toEqual(['10.0.0.3'])
    expect([...ips.taken('n2')]).toEqual([])
  })
})

async function scaleControlPlane(extra: number): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'kpe-light-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const cp = await startControlPlane({ dataDir: dir, port: 0, config: withScaleNodes(defaultClusterConfig(), extra) })
  cleanups.push(() => cp.stop())
  return cp
}

describe('lightweight nodes in process', () => {
  it('one heartbeat loop creates and renews every node\'s Lease and posts KubeletReady', async () => {
    const cp = await scaleControlPlane(20)
    const names = Array.from({ length: 20 }, (_, i) => scaleNodeName(i, 20))
    const beats = new LightweightNodeHeartbeats({ nodeNames: names, api: { get: (resource, namespace, name) => cp.store.get({ resource, namespace, name }), client: cp.client }, timers: realTimers, clock: systemClock, leaseDurationSeconds: 1 })
    cleanups.push(async () => beats.stop())
    await beats.start()
    const renewTimes = (): string[] => names.map((n) => String((cp.store.get({ resource: 'leases.coordination.k8s.io', namespace: 'kube-node-lease', name: n })?.['spec'] as { renewTime?: string } | undefined)?.renewTime))
    const first = renewTimes()
    expect(first.every((t) => t !== 'undefined')).toBe(true)
    for (const n of names) {
      const ready = ((cp.store.get({ resource: 'nodes', namespace: '', name: n })?.['status'] as { conditions: { type: string; reason?: string; lastHeartbeatTime?: string }[] }).conditions).find((c) => c.type === 'Ready')
      expect(ready).toMatchObject({ reason: 'KubeletReady', lastHeartbeatTime: expect.any(String) })
    }
    // the lease on node-a (a real node) is not this loop's
    expect(cp.store.get({ resource: 'leases.coordination.k8s.io', namespace: 'kube-node-lease', name: 'node-a' })).toBeUndefined()
    for (let i = 0; i < 40 && beats.rounds < 3; i++) await new Promise((r) => setTimeout(r, 50))
    expect(beats.rounds).toBeGreaterThanOrEqual(3)
    const later = renewTimes()
    expect(later.every((t, i) => t > first[i]!)).toBe(true)
  })

  it('the fake kubelet gives lightweight pods unique IPs from their node\'s podCIDR and leaves real nodes\' pods alone', async () => {
    const cp = await scaleControlPlane(10)
    const names = Array.from({ length: 10 }, (_, i) => scaleNodeName(i, 10))
    const kubelet = new FakeKubelet({ store: cp.store, client: cp.client, clock: systemClock, nodes: names })
    kubelet.start()
    cleanups.push(async () => kubelet.stop())
    const create = (name: string, node: string): Promise<KubeObject> => cp.client.create(resources.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node, containers: [{ name: 'c', image: 'x' }] } })
    await Promise.all(Array.from({ length: 120 }, (_, i) => create(`p${i}`, names[i % names.length]!)))
    await create('on-real', 'node-a')
    // idle: no Pod is rewritten once Running (a condition with lastProbeTime: null was, forever)
    await kubelet.idle()
    await cp.store.settled()
    const version = cp.store.resourceVersion
    await new Promise((r) => setTimeout(r, 300))
    expect(cp.store.resourceVersion).toBe(version)
    const pods = cp.store.list('pods').items as unknown as Pod[]
    const light = pods.filter((p) => p.metadata.name !== 'on-real')
    expect(light).toHaveLength(120)
    for (const p of light) {
      const node = cp.store.get({ resource: 'nodes', namespace: '', name: p.spec.nodeName! })!
      const cidr = parseCidr((node['spec'] as { podCIDR: string }).podCIDR)!
      expect(p.status?.phase).toBe('Running')
      expect(cidrContains(cidr, p.status!.podIP as IPAddress)).toBe(true)
    }
    expect(new Set(light.map((p) => p.status?.podIP)).size).toBe(120)
    expect(pods.find((p) => p.metadata.name === 'on-real')?.status?.podIP).toBeUndefined()
  })
})
