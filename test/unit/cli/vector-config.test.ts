/** The vectors' config.yaml converted once at the CLI edge, and the injected values laid over a resolved config. */
import { describe, expect, it } from 'vitest'
import { parseProxierConfigFile, type Node } from '../../../src/api/index.js'
import { proxierInputFromFile } from '../../../src/cli/vector-config.js'
import { InputError } from '../../../src/errors.js'
import { applyProxierOverrides, resolveProxierConfig } from '../../../src/proxy/model/index.js'

const vector = (proxier: string, extra = ''): string =>
  `kubeProxyConfiguration:\n  clusterCIDR: 10.0.0.0/16\n${extra}proxier:\n${proxier}`

describe('proxierInputFromFile', () => {
  it('gives a plain KubeProxyConfiguration no overrides and a full sync', () => {
    const input = proxierInputFromFile(parseProxierConfigFile('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.0.0.0/16\n', 'kp.yaml'))
    expect(input.overrides).toBeUndefined()
    expect(input.sync).toEqual({ mode: 'full' })
    expect(input.existingNatChains).toEqual([])
  })

  it('parses the injected values into typed overrides', () => {
    const input = proxierInputFromFile(parseProxierConfigFile(vector(
      '  nodeName: node-a\n  ipFamily: IPv4\n  nodeIP: 192.168.0.2\n  masqueradeMark: "0x4000"\n  interfaceAddresses: {eth0: [192.168.0.2/24]}\n  nfacctCounters: {ct_state_invalid_dropped_pkts: true}\n',
    ), 'config.yaml'))
    expect(input.overrides).toMatchObject({
      nodeName: 'node-a', ipFamily: 'IPv4', nodeIP: '192.168.0.2', masqueradeMark: { value: 0x4000, digits: 4 },
      interfaceAddresses: ['192.168.0.2'], localhostNodePorts: true, host: { nfacctCounters: { ctStateInvalidDroppedPkts: true } },
    })
  })

  it('turns the sync section into a partial SyncMode and existing chains', () => {
    const input = proxierInputFromFile(parseProxierConfigFile(vector('  nodeName: n\n', 'sync:\n  mode: partial\n  changedServices: [ns1/svc1]\n  existingNatServiceChains: [KUBE-SVC-AAAA]\n'), 'config.yaml'))
    expect(input.sync).toEqual({ mode: 'partial', changedServices: new Set(['ns1/svc1']) })
    expect(input.existingNatChains).toEqual(['KUBE-SVC-AAAA'])
  })

  it.each([
    ['masqueradeMark: "16384"', 'proxier.masqueradeMark'],
    ['nodeIP: not-an-ip', 'proxier.nodeIP'],
  ])('names the field of a bad injected value (%s)', (line, field) => {
    const file = parseProxierConfigFile(vector(`  ${line}\n`), 'config.yaml')
    let caught: unknown
    try { proxierInputFromFile(file) } catch (e) { caught = e }
    expect(caught).toBeInstanceOf(InputError)
    expect((caught as InputError).message).toContain(field)
  })
})

describe('applyProxierOverrides', () => {
  const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', labels: { 'topology.kubernetes.io/zone': 'z1' } }, status: { addresses: [{ type: 'InternalIP', address: '10.1.0.5' }, { type: 'InternalIP', address: 'fd00::5' }] } }
  const resolve = (family: 'IPv4' | 'IPv6') => resolveProxierConfig({ config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', nodePortAddresses: ['10.1.0.0/16'] }, ipFamily: family, node, nodeName: 'n' })

  it('keeps every resolved value an override leaves unset', () => {
    expect(applyProxierOverrides(resolve('IPv4'), {})).toEqual(resolve('IPv4'))
  })

  it('takes localhostNodePorts as given on IPv4 but never on IPv6', () => {
    expect(resolve('IPv4').localhostNodePorts).toBe(false)
    expect(applyProxierOverrides(resolve('IPv4'), { localhostNodePorts: true }).localhostNodePorts).toBe(true)
    expect(applyProxierOverrides(resolve('IPv6'), { localhostNodePorts: true }).localhostNodePorts).toBe(false)
  })

  it('replaces local addresses only when some are given, and merges partial host facts', () => {
    const base = resolve('IPv4')
    expect(applyProxierOverrides(base, { interfaceAddresses: [] }).interfaceAddresses).toEqual(base.interfaceAddresses)
    const o = applyProxierOverrides(base, { interfaceAddresses: ['192.168.9.9' as never], host: { conntrackTCPBeLiberal: true } })
    expect(o.interfaceAddresses).toEqual(['192.168.9.9'])
    expect(o.host).toEqual({ ...base.host, conntrackTCPBeLiberal: true })
  })
})
