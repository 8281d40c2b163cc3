/** The kernel dataplane's plans: the node topology from planLab without pods, and one pod's sandbox. */
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadManifestText, type Node } from '../../../src/api/index.js'
import { kernelPrefix, planKernelTopology, planPodSandbox, wantsLocalhostNodePorts } from '../../../src/kernel/index.js'
import { planLab } from '../../../src/lab/index.js'
import { repoRoot } from '../../helpers/shared.js'

const demoNodes = loadManifestText(readFileSync(`${repoRoot}/fixtures/static/demo.yaml`, 'utf8'), 'demo.yaml').nodes.map((n) => n.object as Node)

describe('planKernelTopology', () => {
  const t = planKernelTopology(demoNodes, undefined)

  it('keeps the lab plan\'s LAN, external host and nodes, and drops every pod of the lab', () => {
    const lab = planLab({ nodes: demoNodes, pods: [], endpointSlices: [] }, { prefix: kernelPrefix, localhostNodePorts: true })
    expect(t.pods).toEqual([])
    expect(t.processes).toEqual([])
    expect(t.namespaces).toEqual(['kpe-lan', 'kpe-ext', 'kpe-node-node-a', 'kpe-node-node-b', 'kpe-node-node-c'])
    expect(t.nodes).toEqual(lab.nodes)
    expect(lab.pods.length).toBe(3) // the lab's client pods, one per node
    for (const x of [...t.links, ...t.addresses, ...t.routes, ...t.sysctls]) expect(x.netns).not.toMatch(/-pod-/)
    expect(t.links.filter((l) => l.kind === 'veth').every((l) => l.kind === 'veth' && !l.peerNetns.includes('-pod-'))).toBe(true)
    expect(t.routes).toContainEqual({ netns: 'kpe-node-node-a', dst: '10.244.1.0/24', via: '192.168.77.11' })
    expect(t.sysctls).toContainEqual({ netns: 'kpe-node-node-b', key: 'net.ipv4.conf.all.route_localnet', value: '1' })
  })

  it('sets route_localnet only when kube-proxy serves localhost NodePorts (iptables mode, not turned off)', () => {
    expect(wantsLocalhostNodePorts({ mode: 'nftables' } as never)).toBe(false)
    expect(wantsLocalhostNodePorts({ mode: 'iptables', iptables: { localhostNodePorts: false } } as never)).toBe(false)
    const nft = planKernelTopology(demoNodes, { mode: 'nftables' } as never)
    expect(nft.sysctls.some((s) => s.key === 'net.ipv4.conf.all.route_localnet')).toBe(false)
  })

  it('names the Node and field when a node cannot be placed', () => {
    const bad = { ...demoNodes[0]!, status: { addresses: [] } } as Node
    expect(() => planKernelTopology([bad], undefined)).toThrow(/Node node-a needs an IPv4 InternalIP/)
  })
})

describe('planPodSandbox', () => {
  const t = planKernelTopology(demoNodes, undefined)

  it('plans the pod\'s veth into its node\'s bridge, its address and default route', () => {
    const p = planPodSandbox(t, { namespace: 'default', name: 'web-1', node: 'node-b', podIP: '10.244.1.7' }, 12)
    expect(p.netns).toBe('kpe-pod-default.web-1')
    expect(p.links).toEqual([{ kind: 'veth', netns: 'kpe-pod-default.web-1', name: 'kpe-p12', peerNetns: 'kpe-node-node-b', peerName: 'kpe-v12', peerMaster: 'kpe-cni', peerHairpin: true }])
    expect(p.addresses).toEqual([{ netns: 'kpe-pod-default.web-1', dev: 'kpe-p12', cidr: '10.244.1.7/24' }])
    expect(p.routes).toEqual([{ netns: 'kpe-pod-default.web-1', dst: 'default', via: '10.244.1.1' }])
  })

  it('refuses, naming the pod and field, a node outside the topology and addresses its node cannot carry', () => {
    expect(() => planPodSandbox(t, { namespace: 'ns', name: 'p', node: 'node-z', podIP: '10.244.0.5' }, 0)).toThrow(/pod ns\/p: spec.nodeName "node-z"/)
    expect(() => planPodSandbox(t, { namespace: 'ns', name: 'p', node: 'node-a', podIP: '10.244.0.1' }, 0)).toThrow(/pod ns\/p: status.podIP 10.244.0.1 is not a host address/)
    expect(() => planPodSandbox(t, { namespace: 'ns', name: 'p', node: 'node-a', podIP: 'fd00::5' }, 0)).toThrow(/IPv4 only/)
    expect(() => planPodSandbox(t, { namespace: 'ns', name: 'p', node: 'node-a', podIP: '10.244.0.5' }, 100_000)).toThrow(/interface index/)
  })

  it('accepts exactly the host addresses of the node\'s pod CIDR, and interface names fit IFNAMSIZ', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 99_999 }), (host, third, index) => {
      const ip = `10.244.${third}.${host}`
      // The node's pod CIDR is 10.244.0.0/24 and .1 is its bridge.
      const ok = third === 0 && host !== 1
      let plan
      try {
        plan = planPodSandbox(t, { namespace: 'default', name: 'x', node: 'node-a', podIP: ip }, index)
      } catch (e) {
        expect(ok).toBe(false)
        expect(String(e)).toMatch(/pod default\/x: status.podIP/)
        return
      }
      expect(ok).toBe(true)
      for (const l of plan.links) if (l.kind === 'veth') expect(Math.max(l.name.length, l.peerName.length)).toBeLessThanOrEqual(15)
    }), { seed: 16, numRuns: 300 })
  })
})
