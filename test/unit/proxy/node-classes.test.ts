/**
 * The skeleton the iptables and nftables many-node caches share: port columns and a node's
 * splice of them, and one class per settled config built once. (That each mode's nodes equal
 * their own unshared build is test/property/cluster-rules.property.test.ts.)
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildProxyState, NodeClasses, nodeClassKey, portColumn, resolveProxierConfig, spliceColumn, type ProxierConfig } from '../../../src/proxy/model/index.js'

describe('portColumn and spliceColumn', () => {
  it('a column holds every port\'s text with its start, and the end', () => {
    const c = portColumn(3, (i) => ['ab', '', 'cde'][i]!)
    expect(c.text).toBe('abcde')
    expect([...c.offsets]).toEqual([0, 2, 2, 5])
  })

  it('a node\'s splice is the ports\' texts with the deviating ports\' own text in their places', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 5 }), { maxLength: 12 }).chain((texts) =>
          fc.tuple(fc.constant(texts), fc.subarray(texts.map((_, i) => i)), fc.boolean())),
        ([texts, deviating, missing]) => {
          const own = (i: number) => `<${i}>`
          const column = missing ? undefined : portColumn(texts.length, (i) => texts[i]!)
          const expected = texts.map((t, i) => (deviating.includes(i) ? own(i) : missing ? '' : t)).join('')
          expect(spliceColumn(column, texts.length, deviating, own)).toBe(expected)
        },
      ),
      { seed: 1117, numRuns: 300 },
    )
  })
})

describe('NodeClasses', () => {
  const state = buildProxyState([], [], 'IPv4', 'n1')
  const config = (nodeName: string, zone?: string): ProxierConfig =>
    resolveProxierConfig({
      config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration' },
      ipFamily: 'IPv4',
      nodeName,
      node: { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} } },
    })

  it('builds one class per settled config and zone, from a config with no node name, and keeps it', () => {
    const built: ProxierConfig[] = []
    const classes = new NodeClasses<string, { key: string }>(state, undefined, (c) => {
      built.push(c)
      return { key: nodeClassKey(c) }
    })
    const a = classes.classFor(config('n1', 'z1'))
    expect(classes.classFor(config('n2', 'z1'))).toBe(a)
    const b = classes.classFor(config('n3', 'z2'))
    expect(b).not.toBe(a)
    expect(built).toHaveLength(2)
    expect(built.map((c) => c.nodeName)).not.toContain('n1')
    expect(built.every((c) => c.nodeIP === undefined)).toBe(true)
  })

  it('a new model keeps the previous one\'s port cache, not its classes', () => {
    let builds = 0
    const first = new NodeClasses<string, number>(state, undefined, () => ++builds)
    first.classFor(config('n1'))
    const second = new NodeClasses<string, number>(state, first, () => ++builds)
    expect(second.classFor(config('n1'))).toBe(2)
    expect(second.parts).not.toBe(first.parts)
  })
})
