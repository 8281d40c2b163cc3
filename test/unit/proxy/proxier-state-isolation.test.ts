/**
 * ProxierSync when a sync cannot be built (issue 10: Services that never reach the rules). A
 * build that threw used to lose the changes it had drained and leave the incremental model half
 * updated, so later syncs kept those Services out for good; now the sync leaves out only the
 * Service that cannot be built and every other change still reaches the rules.
 */
import { describe, expect, it } from 'vitest'
import type { Service } from '../../../src/api/index.js'
import { buildIptablesRules } from '../../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig, type ProxierConfig } from '../../../src/proxy/model/index.js'
import { renderIptablesRestore } from '../../../src/proxy/netfilter/index.js'
import { ProxierSync } from '../../../src/proxy/proxier/index.js'

const config: ProxierConfig = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName: 'node-a',
})

function service(name: string, ip: string, extra: Record<string, unknown> = {}): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', resourceVersion: String(Math.random()) }, spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...extra } } as Service
}

const fresh = (services: readonly Service[]): string => renderIptablesRestore(buildIptablesRules({ state: buildProxyState(services, [], 'IPv4', 'node-a'), config }))

describe('ProxierSync isolation', () => {
  it('a Service that cannot be built is left out of one sync; the changes drained with it are not lost', () => {
    const state = new ProxierSync(config)
    const a = service('a', '10.96.0.10')
    const b = service('b', '10.96.0.11')
    const c = service('c', '10.96.0.12')
    for (const s of [a, b, c]) state.tracker.serviceChanged(undefined, s)
    state.applied(state.nextSync('full').table)

    const badB = service('b', '10.96.0.11', { ports: [null] })
    const d = service('d', '10.96.0.13')
    state.tracker.serviceChanged(b, badB)
    state.tracker.serviceChanged(undefined, d)
    // As the Proxier runs it: a sync that throws is logged and followed by a full one.
    let second: ReturnType<ProxierSync['nextSync']> | undefined
    try {
      second = state.nextSync('partial')
      state.applied(second.table)
    } catch {
      second = undefined
    }
    expect(second?.skipped.map((s) => s.name)).toEqual(['default/b'])
    expect(second?.text).toContain('default/d:http')

    // b is repaired; a full sync then holds exactly what a fresh build of a, b, c, d holds.
    const goodB = service('b', '10.96.0.11')
    state.tracker.serviceChanged(badB, goodB)
    const third = state.nextSync('full')
    expect(third.skipped).toEqual([])
    expect(third.text).toBe(fresh([a, goodB, c, d]))
  })
})
