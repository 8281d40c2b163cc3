/**
 * Validation of kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration. Every upstream field
 * is accepted (most only tune timing or other modes); the ones that shape rules are checked.
 */
import { parseCidr } from '../net/index.js'
import { checkKnownFields, FieldErrors, isObject } from './field-errors.js'

const topLevelFields = [
  'apiVersion', 'kind', 'featureGates', 'clientConnection', 'hostnameOverride', 'bindAddress', 'healthzBindAddress',
  'metricsBindAddress', 'bindAddressHardFail', 'enableProfiling', 'showHiddenMetricsForVersion', 'mode', 'iptables', 'ipvs',
  'nftables', 'winkernel', 'detectLocalMode', 'detectLocal', 'clusterCIDR', 'nodePortAddresses', 'oomScoreAdj', 'conntrack',
  'configSyncPeriod', 'portRange', 'windowsRunAsService', 'logging', 'syncPeriod', 'minSyncPeriod',
] as const
const iptablesFields = ['masqueradeBit', 'masqueradeAll', 'localhostNodePorts', 'syncPeriod', 'minSyncPeriod'] as const
// Upstream's KubeProxyNFTablesConfiguration: the same masquerade knobs, no localhostNodePorts.
const nftablesFields = ['masqueradeBit', 'masqueradeAll', 'syncPeriod', 'minSyncPeriod'] as const

export function validateKubeProxyConfiguration(obj: Record<string, unknown>): FieldErrors {
  const errs = new FieldErrors()
  checkKnownFields(errs, '', obj, topLevelFields)
  const mode = obj['mode']
  if (mode !== undefined && !['', 'iptables', 'nftables', 'ipvs'].includes(mode as string)) errs.notSupported('mode', mode, ['iptables', 'nftables'])
  const dlm = obj['detectLocalMode']
  if (dlm !== undefined && !['', 'ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'].includes(dlm as string)) {
    errs.notSupported('detectLocalMode', dlm, ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'])
  }
  const clusterCIDR = obj['clusterCIDR']
  if (clusterCIDR !== undefined) {
    if (typeof clusterCIDR !== 'string') errs.invalid('clusterCIDR', clusterCIDR, 'must be a string')
    else if (clusterCIDR !== '') {
      const parts = clusterCIDR.split(',')
      parts.forEach((p) => { if (parseCidr(p.trim()) === undefined) errs.invalid('clusterCIDR', clusterCIDR, `"${p}" must be a valid CIDR`) })
      if (parts.length > 2) errs.invalid('clusterCIDR', clusterCIDR, 'only one CIDR per IP family is allowed')
    }
  }
  if (dlm === 'BridgeInterface' || dlm === 'InterfaceNamePrefix') {
    const dl = obj['detectLocal']
    const key = dlm === 'BridgeInterface' ? 'bridgeInterface' : 'interfaceNamePrefix'
    if (!isObject(dl) || typeof dl[key] !== 'string' || dl[key] === '') errs.required(`detectLocal.${key}`, `Required value: detectLocalMode ${dlm} needs detectLocal.${key}`)
  }
  const npa = obj['nodePortAddresses']
  if (npa !== undefined) {
    if (!Array.isArray(npa)) errs.invalid('nodePortAddresses', npa, 'must be a list')
    else npa.forEach((c, i) => {
      if (c === 'primary') {
        if (npa.length > 1) errs.invalid(`nodePortAddresses[${i}]`, c, '"primary" cannot be combined with CIDRs')
      } else if (typeof c !== 'string' || parseCidr(c) === undefined) errs.invalid(`nodePortAddresses[${i}]`, c, 'must be a valid CIDR')
    })
  }
  checkMasqueradeSection(errs, obj, 'iptables', iptablesFields)
  checkMasqueradeSection(errs, obj, 'nftables', nftablesFields)
  return errs
}

/** The `iptables` and `nftables` sections share their masquerade fields and checks. */
function checkMasqueradeSection(errs: FieldErrors, obj: Record<string, unknown>, section: 'iptables' | 'nftables', fields: readonly string[]): void {
  const sec = obj[section]
  if (sec === undefined) return
  if (!isObject(sec)) {
    errs.invalid(section, sec, 'must be an object')
    return
  }
  checkKnownFields(errs, section, sec, fields)
  const bit = sec['masqueradeBit']
  if (bit !== undefined && !(typeof bit === 'number' && Number.isInteger(bit) && bit >= 0 && bit <= 31)) {
    errs.invalid(`${section}.masqueradeBit`, bit, 'must be within the range [0, 31]')
  }
  for (const b of ['masqueradeAll', 'localhostNodePorts'].filter((f) => fields.includes(f))) {
    if (sec[b] !== undefined && typeof sec[b] !== 'boolean') errs.invalid(`${section}.${b}`, sec[b], 'must be a boolean')
  }
}
