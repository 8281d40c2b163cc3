import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadManifestText, parseProxierConfigFile } from '../../../src/api/index.js'
import { repoRoot } from '../../helpers/shared.js'

const kubeadm = readFileSync(join(repoRoot, 'test/fixtures/kubeadm-kube-proxy-config.yaml'), 'utf8')

describe('KubeProxyConfiguration as kubeadm writes it', () => {
  it('loads, with null fields read as unset (as Go decodes them)', () => {
    const { kubeProxyConfiguration: kpc } = parseProxierConfigFile(kubeadm, 'config.conf')
    expect(kpc.clusterCIDR).toBe('10.244.0.0/16')
    expect('nodePortAddresses' in kpc).toBe(false)
    expect(kpc.iptables).toEqual({ masqueradeAll: false, minSyncPeriod: '0s', syncPeriod: '0s' })
  })

  it('loads among manifests too', () => {
    const set = loadManifestText(kubeadm, 'kube-proxy.yaml')
    expect(set.kubeProxyConfigurations[0]!.object.clusterCIDR).toBe('10.244.0.0/16')
  })

  it('still refuses a wrong type that is not null', () => {
    expect(() => parseProxierConfigFile(kubeadm.replace('nodePortAddresses: null', 'nodePortAddresses: 7'), 'config.conf')).toThrow(/nodePortAddresses/)
  })
})
