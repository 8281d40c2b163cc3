/**
 * A rule's typed origin: the object, the field and the role that made the builder write it.
 * Trace, `kpe rules --diff` and `--explain` read this instead of parsing our own comments back;
 * the builder fills a Provenance map only when a caller passes one (the hot path never does).
 */
import { servicePortNameString, type ServicePortName } from '../model/index.js'
import type { Rule } from '../netfilter/index.js'

/** What a rule does for its object, in kube-proxy's terms. */
export type RuleRole =
  /** KUBE-SERVICES / KUBE-NODEPORTS jump into a Service port's chains. */
  | 'capture'
  /** filter REJECT: the Service port has no usable endpoint at all. */
  | 'reject-no-endpoints'
  /** filter DROP: a Local traffic policy and no endpoint on this node. */
  | 'drop-no-local-endpoints'
  /** filter KUBE-PROXY-FIREWALL DROP of load-balancer traffic no source range let through. */
  | 'firewall-drop'
  /** KUBE-FW rule that lets one source range (or the node's own VIP traffic) through. */
  | 'firewall-allow'
  /** KUBE-FW's last rule: everything else falls through to the filter drop. */
  | 'firewall-fallthrough'
  /** A jump to KUBE-MARK-MASQ (the source will be masqueraded). */
  | 'masquerade-mark'
  /** KUBE-EXT rule choosing between the cluster and the local policy chain. */
  | 'external-policy'
  /** SVC/SVL rule that keeps a client on its endpoint (ClientIP affinity). */
  | 'affinity'
  /** SVC/SVL rule that picks one endpoint (the statistic ladder). */
  | 'endpoint-select'
  /** SEP rule that marks a pod reaching itself through its Service. */
  | 'hairpin-masquerade'
  /** SEP rule that rewrites the destination to the endpoint. */
  | 'endpoint-dnat'
  /** filter KUBE-NODEPORTS ACCEPT for the health-check NodePort. */
  | 'health-check-accept'
  /** A node-wide rule written on every sync (marks, forwarding, localnet, the NodePorts tail). */
  | 'node-wide'
  /** A jump from a built-in chain that kube-proxy ensures outside the restore (iptablesJumpChains). */
  | 'builtin-jump'

/** Roles of rules written for one Service port (the rest are node-wide). */
export type ServicePortRole = Exclude<RuleRole, 'node-wide' | 'builtin-jump'>

/** The Service field behind a Service port's rule; addresses are the family's own, as the rule holds them. */
export type ServiceField =
  | { readonly path: 'spec.clusterIP' }
  | { readonly path: 'spec.externalIPs'; readonly address: string }
  | { readonly path: 'status.loadBalancer.ingress'; readonly address: string }
  | { readonly path: 'spec.ports[].nodePort' }
  | { readonly path: 'spec.healthCheckNodePort' }
  | { readonly path: 'spec.loadBalancerSourceRanges'; readonly range?: string }
  | { readonly path: 'spec.externalTrafficPolicy' }
  | { readonly path: 'spec.sessionAffinity' }

/** The endpoint a rule serves, as the EndpointSlice lists it. */
export interface EndpointRef {
  /** The EndpointSlice, `ns/name`. */
  readonly slice: string
  /** `ip:port` or `[ip]:port`. */
  readonly endpoint: string
  readonly nodeName: string | undefined
}

/** Why a Service port's rule exists beyond its field: a config knob, or its endpoint. */
export interface ServicePortOrigin {
  readonly kind: 'service-port'
  readonly service: ServicePortName
  /** Index in spec.ports. */
  readonly portIndex: number
  readonly role: ServicePortRole
  /** undefined for rules that exist because of an endpoint alone (the ladder, SEP chains). */
  readonly field: ServiceField | undefined
  /** Rules gated by internalTrafficPolicy as well (a Local ClusterIP capture). */
  readonly internalTrafficPolicy?: true
  /** A KubeProxyConfiguration field that also shaped the rule. */
  readonly config?: 'iptables.masqueradeAll' | 'nftables.masqueradeAll' | 'detectLocalMode' | 'iptables.localhostNodePorts'
  readonly endpoint?: EndpointRef
  /** For endpoint-select: how many endpoints the ladder spreads over. */
  readonly endpointCount?: number
  /** firewall-allow of a VIP: the node IP a source range holds. */
  readonly nodeIP?: string
}

export interface NodeOrigin {
  readonly kind: 'node'
  readonly role: 'node-wide' | 'builtin-jump'
  /** The setting behind the rule, in the words `--explain` prints (a config field, a sysctl, or "fixed rule"). */
  readonly setting: string
  /** For builtin-jump: the built-in chain the jump leaves. */
  readonly from?: string
}

export type RuleOrigin = ServicePortOrigin | NodeOrigin

/** Rule -> origin, filled by the builder when asked. Keys are the table's own Rule objects. */
export type Provenance = Map<Rule, RuleOrigin>

/** The Service port an origin belongs to as `ns/name:port`, or undefined for node-wide rules. */
export function originServicePort(o: RuleOrigin): string | undefined {
  return o.kind === 'service-port' ? servicePortNameString(o.service) : undefined
}

/** The Service port (`ns/name:port`) a rule serves; undefined for node-wide rules. */
export type ServicePortOf = (rule: Rule) => string | undefined

/** Service ports from recorded origins; a rule without one counts as node-wide. */
export function servicePortFromOrigins(provenance: Provenance): ServicePortOf {
  return (rule) => {
    const o = provenance.get(rule)
    return o === undefined ? undefined : originServicePort(o)
  }
}
