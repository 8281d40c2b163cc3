/**
 * Reads `--config`: either a plain KubeProxyConfiguration document or the vectors' config.yaml
 * shape (kubeProxyConfiguration + the values upstream's fake proxier injects + sync + tracer),
 * documented in ../shared/kube-proxy-golden/README.md and docs/cli.md.
 */
import { parseAllDocuments } from 'yaml'
import { InputError } from '../errors.js'
import { parseCidr } from '../net/index.js'
import { checkKnownFields, FieldErrors, isObject } from './field-errors.js'
import type { KubeProxyConfiguration } from './types.js'
import { validateKubeProxyConfiguration } from './validate-kube-proxy-config.js'

/** Values upstream's fake proxier injects instead of deriving them. All optional. */
export interface ProxierOverrides {
  readonly ipFamily?: 'IPv4' | 'IPv6'
  readonly nodeName?: string
  readonly nodeIP?: string
  readonly masqueradeMark?: string
  readonly iptablesSupportsRandomFully?: boolean
  readonly conntrackTCPBeLiberal?: boolean
  readonly nfacctCounters?: { readonly ct_state_invalid_dropped_pkts?: boolean; readonly localhost_nps_accepted_pkts?: boolean }
  readonly largeClusterEndpointsThreshold?: number
  readonly topologyLabels?: Record<string, string>
  readonly interfaceAddresses?: Record<string, string[]>
  /** The fake's ServiceCIDRs (a real kube-proxy reads ServiceCIDR objects); checked as CIDRs. */
  readonly serviceCIDRs?: readonly string[]
}

export interface SyncSpec {
  readonly mode: 'full' | 'partial'
  readonly changedServices: readonly string[]
  readonly existingNatServiceChains: readonly string[]
  /** nftables: flushed service/endpoint chains the table still holds (not yet aged out). */
  readonly staleChains: readonly string[]
}

export interface ProxierConfigFile {
  readonly kubeProxyConfiguration: KubeProxyConfiguration
  readonly proxier: ProxierOverrides
  readonly sync: SyncSpec | undefined
  readonly tracerLocalIPs: readonly string[] | undefined
  /** True when the file was the vectors' shape, whose `proxier` values are taken verbatim. */
  readonly isVectorConfig: boolean
}

const proxierFields = [
  'ipFamily', 'nodeName', 'nodeIP', 'masqueradeMark', 'iptablesSupportsRandomFully', 'conntrackTCPBeLiberal', 'nfacctCounters',
  'largeClusterEndpointsThreshold', 'topologyLabels', 'interfaceAddresses', 'serviceCIDRs',
] as const

export function defaultKubeProxyConfiguration(): KubeProxyConfiguration {
  return { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'iptables' }
}

export function parseProxierConfigFile(text: string, file: string): ProxierConfigFile {
  const docs = parseAllDocuments(text)
  if (!Array.isArray(docs) || docs.length !== 1) throw new InputError({ file }, 'expected exactly one YAML document')
  const doc = docs[0]!
  if (doc.errors[0]) throw new InputError({ file, document: 1 }, `malformed YAML: ${doc.errors[0].message.split('\n')[0]}`)
  const value: unknown = doc.toJS()
  if (!isObject(value)) throw new InputError({ file, document: 1 }, 'expected a mapping')
  if (value['kind'] === 'KubeProxyConfiguration') {
    checkConfig(value, file, '')
    return { kubeProxyConfiguration: value as KubeProxyConfiguration, proxier: {}, sync: undefined, tracerLocalIPs: undefined, isVectorConfig: false }
  }
  const errs = new FieldErrors()
  checkKnownFields(errs, '', value, ['kubeProxyConfiguration', 'proxier', 'sync', 'tracer'])
  checkKnownFields(errs, 'proxier', value['proxier'], proxierFields)
  if (isObject(value['proxier'])) checkServiceCIDRs(errs, value['proxier']['serviceCIDRs'])
  if (!errs.ok) throw new InputError({ file, document: 1, field: errs.list[0]!.field }, errs.list[0]!.message)
  const kpc = value['kubeProxyConfiguration']
  if (!isObject(kpc)) throw new InputError({ file, document: 1, field: 'kubeProxyConfiguration' }, 'Required value: a KubeProxyConfiguration, or a file that is one')
  checkConfig(kpc, file, 'kubeProxyConfiguration.')
  const proxier = isObject(value['proxier']) ? (value['proxier'] as ProxierOverrides) : {}
  const sync = isObject(value['sync']) ? parseSync(value['sync'], file) : undefined
  const tracer = value['tracer']
  const localIPs = isObject(tracer) && Array.isArray(tracer['localIPs']) ? tracer['localIPs'].map(String) : undefined
  return { kubeProxyConfiguration: kpc as KubeProxyConfiguration, proxier, sync, tracerLocalIPs: localIPs, isVectorConfig: true }
}

function checkServiceCIDRs(errs: FieldErrors, cidrs: unknown): void {
  if (cidrs === undefined) return
  if (!Array.isArray(cidrs)) {
    errs.invalid('proxier.serviceCIDRs', cidrs, 'must be a list of CIDRs')
    return
  }
  cidrs.forEach((c, i) => {
    if (typeof c !== 'string' || parseCidr(c) === undefined) errs.invalid(`proxier.serviceCIDRs[${i}]`, c, 'must be a valid CIDR')
  })
}

function checkConfig(obj: Record<string, unknown>, file: string, prefix: string): void {
  const errs = validateKubeProxyConfiguration(obj)
  const first = errs.list[0]
  if (first) throw new InputError({ file, document: 1, object: 'KubeProxyConfiguration', field: prefix + first.field }, first.message)
}

function parseSync(sync: Record<string, unknown>, file: string): SyncSpec {
  const mode = sync['mode'] ?? 'full'
  if (mode !== 'full' && mode !== 'partial') throw new InputError({ file, document: 1, field: 'sync.mode' }, `Unsupported value: ${JSON.stringify(mode)}: supported values: "full", "partial"`)
  const list = (k: string): string[] => (Array.isArray(sync[k]) ? (sync[k] as unknown[]).map(String) : [])
  const staleChains = list('staleChains')
  const badStale = staleChains.findIndex((c) => !c.includes('/') || /\s/.test(c))
  // Only per-service chains (their names hold a `/`) can be stale; anything else is a typo.
  if (badStale >= 0) throw new InputError({ file, document: 1, field: `sync.staleChains[${badStale}]` }, `Invalid value: ${JSON.stringify(staleChains[badStale])}: must name a service or endpoint chain`)
  return { mode, changedServices: list('changedServices'), existingNatServiceChains: list('existingNatServiceChains'), staleChains }
}
