import { describe, expect, it } from 'vitest'
import type { IPAddress } from '../../../src/net/index.js'
import type { EndpointInfo, ProxierConfig } from '../../../src/proxy/model/index.js'
import { resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { planServicePort } from '../../../src/proxy/iptables/index.js'
import { makeEndpoint, makeServicePort } from '../../helpers/service-port.js'

const config: ProxierConfig = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName: 'node-a',
})

const sp = makeServicePort
const ep = (host: number, o: Partial<EndpointInfo> = {}): EndpointInfo => makeEndpoint(`10.180.0.${host}`, o)

const local = { isLocal: true, nodeName: 'node-a' }
const terminating = { ready: false, serving: true, terminating: true }

// One row per traffic-policy case: what the plan decides before any rule is written.
describe('planServicePort', () => {
  it.each([
    ['ClusterIP with endpoints', sp({}), [ep(1), ep(2)], { hasEndpoints: true, hasInternalEndpoints: true, usesClusterPolicyChain: true, usesExternalTrafficChain: false, internal: undefined, external: undefined, seps: 2 }],
    ['no endpoints: REJECT', sp({ nodePort: 30000 }), [], { hasEndpoints: false, hasInternalEndpoints: false, usesClusterPolicyChain: false, usesExternalTrafficChain: false, internal: 'REJECT', external: 'REJECT', seps: 0 }],
    ['not-ready only: REJECT', sp({}), [ep(1, { ready: false, serving: false })], { hasEndpoints: false, hasInternalEndpoints: false, usesClusterPolicyChain: false, usesExternalTrafficChain: false, internal: 'REJECT', external: 'REJECT', seps: 0 }],
    ['eTP Local, no local endpoint: external DROP', sp({ nodePort: 30000, externalPolicyLocal: true }), [ep(1)], { hasEndpoints: true, hasInternalEndpoints: true, usesClusterPolicyChain: true, usesExternalTrafficChain: true, internal: undefined, external: 'DROP', seps: 1 }],
    ['eTP Local, local endpoint', sp({ nodePort: 30000, externalPolicyLocal: true }), [ep(1, local), ep(2)], { hasEndpoints: true, hasInternalEndpoints: true, usesClusterPolicyChain: true, usesExternalTrafficChain: true, internal: undefined, external: undefined, seps: 2 }],
    ['iTP Local, no local endpoint: internal DROP', sp({ internalPolicyLocal: true }), [ep(1)], { hasEndpoints: true, hasInternalEndpoints: false, usesClusterPolicyChain: false, usesExternalTrafficChain: false, internal: 'DROP', external: undefined, seps: 0 }],
    ['iTP Local, local endpoint', sp({ internalPolicyLocal: true }), [ep(1, local), ep(2)], { hasEndpoints: true, hasInternalEndpoints: true, usesClusterPolicyChain: false, usesExternalTrafficChain: false, internal: undefined, external: undefined, seps: 1 }],
    ['only terminating endpoints: serving fallback', sp({}), [ep(1, terminating), ep(2, { ...terminating, serving: false })], { hasEndpoints: true, hasInternalEndpoints: true, usesClusterPolicyChain: true, usesExternalTrafficChain: false, internal: undefined, external: undefined, seps: 1 }],
    ['LB with source ranges uses the FW chain', sp({ loadBalancerVIPs: ['1.2.3.4' as IPAddress], loadBalancerSourceRanges: ['203.0.113.0/25' as never] }), [ep(1)], { hasEndpoints: true, hasInternalEndpoints: true, usesClusterPolicyChain: true, usesExternalTrafficChain: true, internal: undefined, external: undefined, seps: 1 }],
  ])('%s', (_name, port, endpoints, want) => {
    const plan = planServicePort(port, endpoints, config)
    expect({
      hasEndpoints: plan.hasEndpoints,
      hasInternalEndpoints: plan.hasInternalEndpoints,
      usesClusterPolicyChain: plan.usesClusterPolicyChain,
      usesExternalTrafficChain: plan.usesExternalTrafficChain,
      internal: plan.internalTrafficFilter?.target,
      external: plan.externalTrafficFilter?.target,
      seps: plan.endpointChains.length,
    }).toEqual(want)
  })

  it('never plans both a DNAT path and a filter verdict for the cluster IP', () => {
    for (const endpoints of [[], [ep(1)], [ep(1, local)], [ep(1, terminating)]]) {
      for (const port of [sp({}), sp({ internalPolicyLocal: true }), sp({ nodePort: 1, externalPolicyLocal: true })]) {
        const plan = planServicePort(port, endpoints, config)
        expect(plan.hasInternalEndpoints && plan.internalTrafficFilter !== undefined).toBe(false)
        expect(plan.hasExternalEndpoints && plan.externalTrafficFilter !== undefined).toBe(false)
      }
    }
  })

  it('uses the FW chain for LB traffic only with source ranges and endpoints', () => {
    const lb = sp({ loadBalancerVIPs: ['1.2.3.4' as IPAddress], loadBalancerSourceRanges: ['203.0.113.0/25' as never] })
    expect(planServicePort(lb, [ep(1)], config).loadBalancerTrafficChain).toMatch(/^KUBE-FW-/)
    expect(planServicePort(lb, [], config).usesFWChain).toBe(false)
  })
})
