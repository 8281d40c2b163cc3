/**
 * Assembles what one node's proxier sees from a set of manifests: its Node, the Services, the
 * EndpointSlices (derived from Pods where the manifests give none), and its ProxierConfig for
 * one IP family, honouring the vectors' injected values when the config file has them. Mode
 * neutral: the iptables and the nftables builders take the same NodeProxierInput.
 */
import {
  deriveEndpointSlices,
  defaultKubeProxyConfiguration,
  serviceNameLabel,
  type EndpointSlice,
  type ManifestSet,
  type Node,
  type ProxierConfigFile,
  type Service,
} from '../../api/index.js'
import { InputError, UsageError } from '../../errors.js'
import { parseIPSloppy, type IPAddress, type IPFamily } from '../../net/index.js'
import { parseMarkText, resolveProxierConfig, type ProxierConfig } from './proxier-config.js'
import { buildProxyState, type ProxyState } from './proxy-state.js'

export interface ClusterObjects {
  readonly services: readonly Service[]
  readonly endpointSlices: readonly EndpointSlice[]
  readonly nodes: readonly Node[]
}

/** Services, slices (given or derived) and nodes from manifests. */
export function clusterObjects(set: ManifestSet): ClusterObjects {
  const services = set.services.map((l) => l.object)
  const given = set.endpointSlices.map((l) => l.object)
  const covered = new Set(given.map((s) => `${s.metadata.namespace}/${s.metadata.labels?.[serviceNameLabel] ?? ''}`))
  for (const { object, source } of set.endpointSlices) {
    if (!object.metadata.labels?.[serviceNameLabel]) {
      throw new InputError({ file: source.file, document: source.document, object: `EndpointSlice ${object.metadata.namespace}/${object.metadata.name}`, field: `metadata.labels["${serviceNameLabel}"]` },
        'Required value: kube-proxy ignores a slice that does not name its Service')
    }
  }
  const nodes = set.nodes.map((l) => l.object)
  const derived = deriveEndpointSlices({
    services: services.filter((s) => !covered.has(`${s.metadata.namespace}/${s.metadata.name}`)),
    pods: set.pods.map((l) => l.object),
    nodes,
  })
  checkNamedTargetPorts(set)
  return { services, endpointSlices: [...given, ...derived], nodes }
}

/** A named targetPort that no selected Pod defines is almost always a typo: say so. */
function checkNamedTargetPorts(set: ManifestSet): void {
  for (const { object: svc, source } of set.services) {
    const selector = svc.spec.selector
    if (!selector || Object.keys(selector).length === 0) continue
    const pods = set.pods.map((l) => l.object).filter((p) => p.metadata.namespace === svc.metadata.namespace && Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v))
    if (pods.length === 0) continue
    ;(svc.spec.ports ?? []).forEach((sp, i) => {
      if (typeof sp.targetPort !== 'string') return
      const found = pods.some((p) => p.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === sp.targetPort && (cp.protocol ?? 'TCP') === (sp.protocol ?? 'TCP'))))
      if (!found) {
        throw new InputError({ file: source.file, document: source.document, object: `Service ${svc.metadata.namespace}/${svc.metadata.name}`, field: `spec.ports[${i}].targetPort` },
          `"${sp.targetPort}" matches no container port of the ${pods.length} selected pod(s)`, { hint: `name the container port "${sp.targetPort}", or use a port number` })
      }
    })
  }
}

export interface NodeProxierInput {
  readonly state: ProxyState
  readonly config: ProxierConfig
}

export interface NodeSelection {
  readonly nodeName?: string
  readonly ipFamily?: IPFamily
}

/** The node to render for: the one named, or the only/first Node in the manifests. */
export function selectNodeName(objects: ClusterObjects, configFile: ProxierConfigFile | undefined, requested: string | undefined): string {
  if (requested !== undefined) {
    if (objects.nodes.length > 0 && !objects.nodes.some((n) => n.metadata.name === requested) && !configFile?.proxier.nodeName) {
      throw new UsageError(`node "${requested}" is not among the manifests' Nodes (${objects.nodes.map((n) => n.metadata.name).join(', ')})`, { hint: 'pass one of them with --node' })
    }
    return requested
  }
  const fromConfig = configFile?.proxier.nodeName ?? configFile?.kubeProxyConfiguration.hostnameOverride
  if (fromConfig) return fromConfig
  const first = objects.nodes[0]?.metadata.name
  if (first) return first
  throw new UsageError('no node to render for: the manifests hold no Node and the config names none', { hint: 'add a Node, pass --node NAME, or set hostnameOverride' })
}

export function nodeProxierInput(objects: ClusterObjects, configFile: ProxierConfigFile | undefined, nodeName: string, family: IPFamily): NodeProxierInput {
  const node = objects.nodes.find((n) => n.metadata.name === nodeName)
  const kpc = configFile?.kubeProxyConfiguration ?? defaultKubeProxyConfiguration()
  const o = configFile?.proxier ?? {}
  const interfaceAddresses = Object.values(o.interfaceAddresses ?? {}).flat().map((a) => parseIPSloppy(a.split('/')[0]!)).filter((ip): ip is IPAddress => ip !== undefined)
  let config = resolveProxierConfig({ config: kpc, ipFamily: family, node, nodeName, extraInterfaceAddresses: interfaceAddresses })
  if (configFile?.isVectorConfig) config = applyOverrides(config, configFile, family)
  return { state: buildProxyState(objects.services, objects.endpointSlices, family, nodeName), config }
}

/** The vectors' fake proxier sets these fields directly; take them verbatim. */
function applyOverrides(config: ProxierConfig, file: ProxierConfigFile, family: IPFamily): ProxierConfig {
  const o = file.proxier
  const mark = o.masqueradeMark !== undefined ? parseMarkText(o.masqueradeMark) : undefined
  if (o.masqueradeMark !== undefined && mark === undefined) throw new InputError({ field: 'proxier.masqueradeMark' }, `Invalid value: "${o.masqueradeMark}": must be a hex number such as 0x4000`)
  const ifaces = Object.values(o.interfaceAddresses ?? {}).flat().map((a) => parseIPSloppy(a.split('/')[0]!)).filter((ip): ip is IPAddress => ip !== undefined)
  return {
    ...config,
    nodeIP: o.nodeIP !== undefined ? parseIPSloppy(o.nodeIP) : config.nodeIP,
    interfaceAddresses: ifaces.length > 0 ? ifaces : config.interfaceAddresses,
    topologyLabels: o.topologyLabels ?? config.topologyLabels,
    masqueradeMark: mark ?? config.masqueradeMark,
    // The fake proxier is given localhostNodePorts directly; only the family rule still applies.
    localhostNodePorts: family === 'IPv4' && (file.kubeProxyConfiguration.iptables?.localhostNodePorts ?? true),
    host: {
      iptablesSupportsRandomFully: o.iptablesSupportsRandomFully ?? config.host.iptablesSupportsRandomFully,
      conntrackTCPBeLiberal: o.conntrackTCPBeLiberal ?? config.host.conntrackTCPBeLiberal,
      nfacctCounters: {
        ctStateInvalidDroppedPkts: o.nfacctCounters?.ct_state_invalid_dropped_pkts ?? config.host.nfacctCounters.ctStateInvalidDroppedPkts,
        localhostNodePortsAcceptedPkts: o.nfacctCounters?.localhost_nps_accepted_pkts ?? config.host.nfacctCounters.localhostNodePortsAcceptedPkts,
      },
    },
    largeClusterEndpointsThreshold: o.largeClusterEndpointsThreshold ?? config.largeClusterEndpointsThreshold,
  }
}


export interface NodeInputRequest {
  readonly manifests: ManifestSet
  readonly configFile?: ProxierConfigFile
  readonly nodeName?: string
  readonly ipFamily?: IPFamily
}

/** manifests -> one node's proxier input, the same for every mode: the node chosen, its family, its model and config. */
export function nodeInputFor(req: NodeInputRequest): { input: NodeProxierInput; nodeName: string; family: IPFamily } {
  const objects = clusterObjects(req.manifests)
  const nodeName = selectNodeName(objects, req.configFile, req.nodeName)
  const family = req.ipFamily ?? req.configFile?.proxier.ipFamily ?? 'IPv4'
  return { input: nodeProxierInput(objects, req.configFile, nodeName, family), nodeName, family }
}
