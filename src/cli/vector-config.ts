/**
 * The CLI edge of `--config`: turns a parsed config file (a plain KubeProxyConfiguration or the
 * vectors' config.yaml) into typed proxier input once, so the proxy core never sees the file
 * format: the KubeProxyConfiguration, the injected values as ProxierConfigOverrides, the sync.
 */
import type { KubeProxyConfiguration, ProxierConfigFile } from '../api/index.js'
import { InputError } from '../errors.js'
import { chainName, parseIPSloppy, type ChainName, type IPAddress } from '../net/index.js'
import type { SyncMode } from '../proxy/iptables/index.js'
import { parseMarkText, type ProxierConfigOverrides } from '../proxy/model/index.js'

/** What the proxy core takes from a config file. */
export interface ProxierInputConfig {
  readonly kubeProxyConfiguration: KubeProxyConfiguration
  /** Only for the vectors' shape, whose injected values are taken verbatim. */
  readonly overrides?: ProxierConfigOverrides
  readonly sync: SyncMode
  readonly existingNatChains: readonly ChainName[]
  /** nftables: flushed chains the table still holds (the vectors' sync.staleChains). */
  readonly staleChains: readonly ChainName[]
}

export function proxierInputFromFile(file: ProxierConfigFile): ProxierInputConfig {
  const s = file.sync
  return {
    kubeProxyConfiguration: file.kubeProxyConfiguration,
    ...(file.isVectorConfig ? { overrides: overridesFromFile(file) } : {}),
    sync: s?.mode === 'partial' ? { mode: 'partial', changedServices: new Set(s.changedServices) } : { mode: 'full' },
    existingNatChains: (s?.existingNatServiceChains ?? []).map(chainName),
    staleChains: (s?.staleChains ?? []).map(chainName),
  }
}

function overridesFromFile(file: ProxierConfigFile): ProxierConfigOverrides {
  const o = file.proxier
  const mark = o.masqueradeMark !== undefined ? parseMarkText(o.masqueradeMark) : undefined
  if (o.masqueradeMark !== undefined && mark === undefined) throw new InputError({ field: 'proxier.masqueradeMark' }, `Invalid value: "${o.masqueradeMark}": must be a hex number such as 0x4000`)
  const nodeIP = o.nodeIP !== undefined ? parseIPSloppy(o.nodeIP) : undefined
  if (o.nodeIP !== undefined && nodeIP === undefined) throw new InputError({ field: 'proxier.nodeIP' }, `Invalid value: "${o.nodeIP}": must be a valid IP address`)
  const interfaceAddresses = Object.values(o.interfaceAddresses ?? {}).flat().map((a) => parseIPSloppy(a.split('/')[0]!)).filter((ip): ip is IPAddress => ip !== undefined)
  const counters = o.nfacctCounters
  return {
    ...(o.nodeName !== undefined ? { nodeName: o.nodeName } : {}),
    ...(o.ipFamily !== undefined ? { ipFamily: o.ipFamily } : {}),
    ...(nodeIP !== undefined ? { nodeIP } : {}),
    interfaceAddresses,
    ...(o.topologyLabels !== undefined ? { topologyLabels: o.topologyLabels } : {}),
    ...(mark !== undefined ? { masqueradeMark: mark } : {}),
    // The fake proxier is given localhostNodePorts directly; the family rule is applied later.
    localhostNodePorts: file.kubeProxyConfiguration.iptables?.localhostNodePorts ?? true,
    host: {
      ...(o.iptablesSupportsRandomFully !== undefined ? { iptablesSupportsRandomFully: o.iptablesSupportsRandomFully } : {}),
      ...(o.conntrackTCPBeLiberal !== undefined ? { conntrackTCPBeLiberal: o.conntrackTCPBeLiberal } : {}),
      nfacctCounters: {
        ...(counters?.ct_state_invalid_dropped_pkts !== undefined ? { ctStateInvalidDroppedPkts: counters.ct_state_invalid_dropped_pkts } : {}),
        ...(counters?.localhost_nps_accepted_pkts !== undefined ? { localhostNodePortsAcceptedPkts: counters.localhost_nps_accepted_pkts } : {}),
      },
    },
    ...(o.largeClusterEndpointsThreshold !== undefined ? { largeClusterEndpointsThreshold: o.largeClusterEndpointsThreshold } : {}),
    ...(o.serviceCIDRs !== undefined ? { serviceCIDRs: o.serviceCIDRs } : {}),
  }
}
