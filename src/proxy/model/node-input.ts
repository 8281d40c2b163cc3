/**
 * Assembles what one node's proxier sees from a set of manifests: its Node, the Services, the
 * EndpointSlices (derived from Pods where the manifests give none), and its ProxierConfig for
 * one IP family, with any injected values (converted at the CLI edge) laid over it. Mode
 * neutral: the iptables and the nftables builders take the same NodeProxierInput.
 */
import {
  deriveEndpointSlices,
  defaultKubeProxyConfiguration,
  serviceNameLabel,
  type EndpointSlice,
  type ManifestSet,
  type KubeProxyConfiguration,
  type Node,
  type Service,
} from '../../api/index.js'
import { InputError, UsageError } from '../../errors.js'
import { parseCidr, type IPFamily } from '../../net/index.js'
import { applyProxierOverrides, resolveProxierConfig, type ProxierConfig, type ProxierConfigOverrides } from './proxier-config.js'
import { buildProxyState, type ProxyState } from './proxy-state.js'

export interface ClusterObjects {
  readonly services: readonly Service[]
  readonly endpointSlices: readonly EndpointSlice[]
  readonly nodes: readonly Node[]
  /** spec.cidrs of every ServiceCIDR object (networking.k8s.io/v1), both families, in file order. */
  readonly serviceCIDRs?: readonly string[]
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
  return { services, endpointSlices: [...given, ...derived], nodes, serviceCIDRs: serviceCIDRsOf(set) }
}

/** ServiceCIDR objects' spec.cidrs, each checked: a bad CIDR names its object and field. */
function serviceCIDRsOf(set: ManifestSet): string[] {
  const out: string[] = []
  for (const { object, source } of set.others) {
    if (object.kind !== 'ServiceCIDR') continue
    const cidrs: unknown = (object as { spec?: { cidrs?: unknown } }).spec?.cidrs
    const list = Array.isArray(cidrs) ? cidrs : []
    list.forEach((c, i) => {
      if (typeof c !== 'string' || parseCidr(c) === undefined) {
        throw new InputError({ file: source.file, document: source.document, object: `ServiceCIDR ${object.metadata.name}`, field: `spec.cidrs[${i}]` }, `Invalid value: ${JSON.stringify(c)}: must be a valid CIDR`)
      }
      out.push(c)
    })
  }
  return out
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

/** Where one node's proxier config comes from: a KubeProxyConfiguration and, for the vectors, injected values. */
export interface NodeConfigSource {
  readonly kubeProxyConfiguration?: KubeProxyConfiguration
  readonly overrides?: ProxierConfigOverrides
}

/** The node to render for: the one named, or the only/first Node in the manifests. */
export function selectNodeName(objects: ClusterObjects, source: NodeConfigSource | undefined, requested: string | undefined): string {
  if (requested !== undefined) {
    if (objects.nodes.length > 0 && !objects.nodes.some((n) => n.metadata.name === requested) && !source?.overrides?.nodeName) {
      throw new UsageError(`node "${requested}" is not among the manifests' Nodes (${objects.nodes.map((n) => n.metadata.name).join(', ')})`, { hint: 'pass one of them with --node' })
    }
    return requested
  }
  const fromConfig = source?.overrides?.nodeName ?? source?.kubeProxyConfiguration?.hostnameOverride
  if (fromConfig) return fromConfig
  const first = objects.nodes[0]?.metadata.name
  if (first) return first
  throw new UsageError('no node to render for: the manifests hold no Node and the config names none', { hint: 'add a Node, pass --node NAME, or set hostnameOverride' })
}

export function nodeProxierInput(objects: ClusterObjects, source: NodeConfigSource | undefined, nodeName: string, family: IPFamily): NodeProxierInput {
  return { state: buildProxyState(objects.services, objects.endpointSlices, family, nodeName), config: nodeProxierConfig(objects, source, nodeName, family) }
}

/** One node's settled config alone: what differs between the nodes of one cluster model. */
export function nodeProxierConfig(objects: ClusterObjects, source: NodeConfigSource | undefined, nodeName: string, family: IPFamily): ProxierConfig {
  const node = objects.nodes.find((n) => n.metadata.name === nodeName)
  const kpc = source?.kubeProxyConfiguration ?? defaultKubeProxyConfiguration()
  const resolved = resolveProxierConfig({ config: kpc, ipFamily: family, node, nodeName, ...(objects.serviceCIDRs ? { serviceCIDRs: objects.serviceCIDRs } : {}) })
  return source?.overrides ? applyProxierOverrides(resolved, source.overrides) : resolved
}

export interface NodeInputRequest extends NodeConfigSource {
  readonly manifests: ManifestSet
  readonly nodeName?: string
  readonly ipFamily?: IPFamily
}

/** manifests -> one node's proxier input, the same for every mode: the node chosen, its family, its model and config. */
export function nodeInputFor(req: NodeInputRequest): { input: NodeProxierInput; nodeName: string; family: IPFamily } {
  const objects = clusterObjects(req.manifests)
  const nodeName = selectNodeName(objects, req, req.nodeName)
  const family = req.ipFamily ?? req.overrides?.ipFamily ?? 'IPv4'
  return { input: nodeProxierInput(objects, req, nodeName, family), nodeName, family }
}
