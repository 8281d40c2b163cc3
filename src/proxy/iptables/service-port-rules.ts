/**
 * What one service port writes in a sync (upstream syncProxyRules' per-service loop): capture
 * rules in kube-proxy's shared chains (KUBE-SERVICES, KUBE-NODEPORTS and the filter chains),
 * and its own SVC/SVL/EXT/FW/SEP chains. Pure; a part depends only on its arguments, which is
 * what lets the incremental builder keep it between syncs.
 */
import { cidrTextContains, type ChainName, type IPAddress } from '../../net/index.js'
import type { EndpointInfo, LocalDetector, ProxierConfig, ServicePortInfo } from '../model/index.js'
import type { Match } from '../netfilter/index.js'
import { kubeExternalServicesChain, kubeMarkMasqChain, kubeNodePortsChain, kubeProxyFirewallChain, kubeServicesChain } from './chains.js'
import type { ServicePortPlan } from './plan.js'
import { comment, dport, dst, dstTypeLocal, filterTarget, jump, protoMatch, rule, src, srcTypeLocal, verdict } from './rule-parts.js'
import type { Provenance, ServiceField, ServicePortOrigin, ServicePortRole } from './rule-origin.js'
import { RuleTableBuilder, TableBuilder, type ChainPart, type RenderMode } from './rule-table-builder.js'

const localhostNodePortsAcceptedPkts = 'localhost_nps_accepted_pkts'

export interface ServicePortRules extends CaptureRules {
  /** The service port's own nat chains; undefined when not asked for (a partial sync of an unchanged service). */
  readonly chains: readonly ChainPart[] | undefined
}

export interface ServicePortRulesOptions {
  readonly largeClusterMode: boolean
  readonly ownChains: boolean
  readonly render: RenderMode
  readonly provenance?: Provenance | undefined
}

export function buildServicePortRules(plan: ServicePortPlan, config: ProxierConfig, opts: ServicePortRulesOptions): ServicePortRules {
  const capture = new RuleTableBuilder(config.ipFamily, opts.provenance, opts.render)
  writeCaptureRules(capture, plan, config)
  const filterCapture = capture.filter.parts()
  const natCapture = capture.nat.parts()
  if (!opts.ownChains) return { filterCapture, natCapture, chains: undefined }
  const nat = new TableBuilder('nat', opts.provenance, opts.render)
  writeInternalTrafficRules(nat, plan, config)
  writeExternalTrafficChain(nat, plan, config.localDetector)
  writeFirewallChain(nat, plan, config)
  if (plan.usesClusterPolicyChain) writeServiceToEndpointRules(nat, plan, plan.clusterPolicyChain, plan.clusterEndpoints, opts.largeClusterMode)
  if (plan.usesLocalPolicyChain) writeServiceToEndpointRules(nat, plan, plan.localPolicyChain, plan.localEndpoints, opts.largeClusterMode)
  writeEndpointChains(nat, plan, opts.largeClusterMode)
  return { filterCapture, natCapture, chains: nat.parts() }
}

/** Capture rules per shared chain: one service port's, or several joined in order. */
export interface CaptureRules {
  readonly filterCapture: readonly ChainPart[]
  readonly natCapture: readonly ChainPart[]
}

/** Adds capture rules to the shared chains of a table being built. */
export function appendCaptureRules(out: RuleTableBuilder, r: CaptureRules): void {
  for (const part of r.filterCapture) out.filter.append(part)
  for (const part of r.natCapture) out.nat.append(part)
}

/** Adds a service port's own chains to a table being built. */
export function appendOwnChains(out: RuleTableBuilder, r: ServicePortRules): void {
  if (r.chains) for (const part of r.chains) out.nat.append(part)
}

/** The nat chains a service port owns (upstream activeNATChains), without building them. */
export function activeServiceChains(plan: ServicePortPlan): ChainName[] {
  const active: ChainName[] = []
  for (const { chain } of plan.endpointChains) active.push(chain)
  if (plan.usesClusterPolicyChain) active.push(plan.clusterPolicyChain)
  if (plan.usesLocalPolicyChain) active.push(plan.localPolicyChain)
  if (plan.usesExternalTrafficChain) active.push(plan.externalTrafficChain)
  if (plan.usesFWChain) active.push(plan.fwChain)
  return active
}

/** Capture rules: clusterIP, externalIPs, LB ingress, NodePorts, health-check NodePort. */
function writeCaptureRules(out: RuleTableBuilder, plan: ServicePortPlan, config: ProxierConfig): void {
  const { sp, proto } = plan
  const name = sp.nameString
  // Array literals rather than spreads: a spread builds the array by pushing, leaving unused room in every kept rule.
  const [l4, pm] = protoMatch(proto)
  const port = dport(sp.port)
  const noEndpointsWhy = (v: { target: 'REJECT' | 'DROP' }, field: ServiceField): ServicePortOrigin =>
    origin(sp, v.target === 'REJECT' ? 'reject-no-endpoints' : 'drop-no-local-endpoints', field)
  const filterRule = (chain: ChainName, v: { target: 'REJECT' | 'DROP'; comment: string }, address: string, field: ServiceField): void =>
    out.filter.add(chain, rule([comment(v.comment), l4, pm, dst(address), port], filterTarget(v.target)), () => noEndpointsWhy(v, field))

  if (plan.hasInternalEndpoints) {
    out.nat.add(kubeServicesChain, rule([comment(`${name} cluster IP`), l4, pm, dst(sp.clusterIP), port], jump(plan.internalTrafficChain)),
      () => origin(sp, 'capture', clusterIPField, sp.internalPolicyLocal ? { internalTrafficPolicy: true } : undefined))
  } else if (plan.internalTrafficFilter) {
    filterRule(kubeServicesChain, plan.internalTrafficFilter, sp.clusterIP, clusterIPField)
  }
  // Field values are made inside the thunks: only a build that records provenance pays for them.
  for (const ip of sp.externalIPs) {
    if (plan.hasEndpoints) out.nat.add(kubeServicesChain, rule([comment(`${name} external IP`), l4, pm, dst(ip), port], jump(plan.externalTrafficChain)), () => origin(sp, 'capture', externalIPField(ip)))
    if (plan.externalTrafficFilter) filterRule(kubeExternalServicesChain, plan.externalTrafficFilter, ip, externalIPField(ip))
  }
  for (const ip of sp.loadBalancerVIPs) {
    if (plan.hasEndpoints) out.nat.add(kubeServicesChain, rule([comment(`${name} loadbalancer IP`), l4, pm, dst(ip), port], jump(plan.loadBalancerTrafficChain)), () => origin(sp, 'capture', ingressField(ip)))
    if (plan.usesFWChain) {
      out.filter.add(kubeProxyFirewallChain, rule([comment(`${name} traffic not accepted by ${plan.fwChain}`), l4, pm, dst(ip), port], verdict('DROP')), () => origin(sp, 'firewall-drop', ingressField(ip)))
    }
  }
  if (plan.externalTrafficFilter) for (const ip of sp.loadBalancerVIPs) filterRule(kubeExternalServicesChain, plan.externalTrafficFilter, ip, ingressField(ip))
  if (sp.nodePort !== 0) {
    if (plan.hasEndpoints) writeNodePortRules(out, plan, config)
    const filter = plan.externalTrafficFilter
    if (filter) {
      out.filter.add(kubeExternalServicesChain, rule([comment(filter.comment), dstTypeLocal, l4, pm, dport(sp.nodePort)], filterTarget(filter.target)),
        () => noEndpointsWhy(filter, nodePortField))
    }
  }
  if (sp.healthCheckNodePort !== 0) {
    out.filter.add(kubeNodePortsChain, rule([comment(`${name} health check node port`), ...protoMatch('tcp'), dport(sp.healthCheckNodePort)], verdict('ACCEPT')), () => origin(sp, 'health-check-accept', { path: 'spec.healthCheckNodePort' }))
  }
}

// NodePorts are not subject to loadBalancerSourceRanges (upstream keeps it so for compatibility).
function writeNodePortRules(out: RuleTableBuilder, plan: ServicePortPlan, config: ProxierConfig): void {
  const { sp, proto } = plan
  const w = (): ServicePortOrigin => origin(sp, 'capture', nodePortField)
  const [l4, pm] = protoMatch(proto)
  if (config.localhostNodePorts && config.host.nfacctCounters.localhostNodePortsAcceptedPkts) {
    out.nat.add(kubeNodePortsChain, rule([
      comment(sp.nameString), l4, pm, dst('127.0.0.0/8'), dport(sp.nodePort), { kind: 'nfacct', name: localhostNodePortsAcceptedPkts },
    ], jump(plan.externalTrafficChain)), () => origin(sp, 'capture', nodePortField, { config: 'iptables.localhostNodePorts' }))
  }
  out.nat.add(kubeNodePortsChain, rule([comment(sp.nameString), l4, pm, dport(sp.nodePort)], jump(plan.externalTrafficChain)), w)
}

function ifLocal(d: LocalDetector): Match[] {
  switch (d.kind) {
    case 'cidr':
      return [src(d.cidrs[0]!)]
    case 'bridge-interface':
      return [{ kind: 'in-interface', name: d.name }]
    case 'interface-name-prefix':
      return [{ kind: 'in-interface', name: `${d.prefix}+` }]
    case 'none':
      return []
  }
}

function ifNotLocal(d: LocalDetector): Match[] {
  return ifLocal(d).map((m) => ({ ...m, negated: true as const }))
}

/** The "cluster IP" masquerade rule at the top of the internal policy chain. */
function writeInternalTrafficRules(nat: TableBuilder, plan: ServicePortPlan, config: ProxierConfig): void {
  if (!plan.hasInternalEndpoints) return
  const { sp } = plan
  const [l4, pm] = protoMatch(plan.proto)
  const args = [comment(`${sp.nameString} cluster IP`), l4, pm, dst(sp.clusterIP), dport(sp.port)]
  if (config.masqueradeAll) nat.add(plan.internalTrafficChain, rule(args, jump(kubeMarkMasqChain)), () => origin(sp, 'masquerade-mark', clusterIPField, { config: 'iptables.masqueradeAll' }))
  // Off-cluster traffic to a ClusterIP (a static route to any node) may bounce off-node: masquerade it.
  else if (config.localDetector.kind !== 'none') nat.add(plan.internalTrafficChain, rule(args.concat(ifNotLocal(config.localDetector)), jump(kubeMarkMasqChain)), () => origin(sp, 'masquerade-mark', clusterIPField, { config: 'detectLocalMode' }))
}

function writeExternalTrafficChain(nat: TableBuilder, plan: ServicePortPlan, detector: LocalDetector): void {
  if (!plan.usesExternalTrafficChain) return
  const ext = plan.externalTrafficChain
  const name = plan.sp.nameString
  const masq = (): ServicePortOrigin => origin(plan.sp, 'masquerade-mark', etpField)
  const route = (): ServicePortOrigin => origin(plan.sp, 'external-policy', etpField)
  nat.declare(ext)
  if (!plan.sp.externalPolicyLocal) {
    // Cluster policy may cross nodes, so the reply must come back through this node.
    nat.add(ext, rule([comment(`masquerade traffic for ${name} external destinations`)], jump(kubeMarkMasqChain)), masq)
  } else {
    // Pods reaching an external address of the service are not subject to either policy.
    if (detector.kind !== 'none') nat.add(ext, rule([comment(`pod traffic for ${name} external destinations`)].concat(ifLocal(detector)), jump(plan.clusterPolicyChain)), () => origin(plan.sp, 'external-policy', etpField, { config: 'detectLocalMode' }))
    // The node's own traffic to an external address has a local source IP: masquerade and use the cluster chain.
    nat.add(ext, rule([comment(`masquerade LOCAL traffic for ${name} external destinations`), srcTypeLocal], jump(kubeMarkMasqChain)), masq)
    nat.add(ext, rule([comment(`route LOCAL traffic for ${name} external destinations`), srcTypeLocal], jump(plan.clusterPolicyChain)), route)
  }
  if (plan.hasExternalEndpoints) nat.add(ext, rule([], jump(plan.externalPolicyChain)), route)
}

function writeFirewallChain(nat: TableBuilder, plan: ServicePortPlan, config: ProxierConfig): void {
  if (!plan.usesFWChain) return
  const { sp, fwChain } = plan
  const c = comment(`${sp.nameString} loadbalancer IP`)
  nat.declare(fwChain)
  let allowFromNode = false
  for (const range of sp.loadBalancerSourceRanges) {
    nat.add(fwChain, rule([c, src(range)], jump(plan.externalTrafficChain)), () => origin(sp, 'firewall-allow', { path: 'spec.loadBalancerSourceRanges', range }))
    if (config.nodeIP !== undefined && cidrTextContains(range, config.nodeIP)) allowFromNode = true
  }
  // A VIP often is a local address too: the node's own requests then arrive with the VIP as source.
  if (allowFromNode) {
    for (const ip of sp.loadBalancerVIPs) {
      nat.add(fwChain, rule([c, src(ip)], jump(plan.externalTrafficChain)), () => origin(sp, 'firewall-allow', { path: 'status.loadBalancer.ingress', address: ip }, { nodeIP: config.nodeIP! }))
    }
  }
  // Traffic reaching this point was not DNATed, so KUBE-PROXY-FIREWALL drops it in filter.
  nat.add(fwChain, rule([comment(`other traffic to ${sp.nameString} will be dropped by KUBE-PROXY-FIREWALL`)]), () => origin(sp, 'firewall-fallthrough', { path: 'spec.loadBalancerSourceRanges' }))
}

/** upstream writeServiceToEndpointRules: affinity checks, then the statistic ladder. */
function writeServiceToEndpointRules(
  nat: TableBuilder,
  plan: ServicePortPlan,
  chain: ChainName,
  endpoints: ServicePortPlan['clusterEndpoints'],
  largeClusterMode: boolean,
): void {
  nat.declare(chain)
  const name = plan.sp.nameString
  const sepOf = new Map(plan.endpointChains.map((e) => [e.endpoint.endpoint, e.chain]))
  const sticky = plan.sp.stickyMaxAgeSeconds
  if (sticky !== undefined) {
    for (const ep of endpoints) {
      const sep = sepOf.get(ep.endpoint)!
      const recent: Match = { kind: 'recent', name: sep, op: 'rcheck', seconds: sticky, reap: true }
      nat.add(chain, rule(largeClusterMode ? [recent] : [comment(`${name} -> ${ep.endpoint}`), recent], jump(sep)),
        () => origin(plan.sp, 'affinity', { path: 'spec.sessionAffinity' }, { endpoint: endpointRef(ep) }))
    }
  }
  const n = endpoints.length
  for (let i = 0; i < n; i++) {
    const ep = endpoints[i]!
    const sep = sepOf.get(ep.endpoint)!
    // Array literals of the final length: a push would leave room for 16 more in every kept rule.
    let matches: readonly Match[]
    if (i < n - 1) {
      const statistic = statisticRandom(n - i)
      matches = largeClusterMode ? [statistic] : [comment(`${name} -> ${ep.endpoint}`), statistic]
    } else {
      matches = largeClusterMode ? noMatches : [comment(`${name} -> ${ep.endpoint}`)]
    }
    nat.add(chain, rule(matches, jump(sep)), () => origin(plan.sp, 'endpoint-select', undefined, { endpoint: endpointRef(ep), endpointCount: n }))
  }
}

const noMatches: readonly Match[] = []
/** Statistic matches by endpoint count, shared by every rule that uses one (matches are immutable). */
const statisticMatches: Match[] = []

function statisticRandom(n: number): Match {
  if (n >= 4096) return { kind: 'statistic-random', probability: computeProbability(n) }
  return (statisticMatches[n] ??= { kind: 'statistic-random', probability: computeProbability(n) })
}

/** 1/n as upstream prints it (%0.10f), stored as the printed value so parse(render(t)) == t. */
export function computeProbability(n: number): number {
  return Number((1 / n).toFixed(10))
}

const markMasq = jump(kubeMarkMasqChain)

function writeEndpointChains(nat: TableBuilder, plan: ServicePortPlan, largeClusterMode: boolean): void {
  const { sp, proto } = plan
  // Values shared by every SEP rule of the service port (matches and targets are immutable);
  // array literals of the final length, as each rule is kept between syncs.
  const c = largeClusterMode ? undefined : comment(sp.nameString)
  const [l4, pm] = protoMatch(proto)
  const sticky = sp.stickyMaxAgeSeconds !== undefined
  const dnatMatches: readonly Match[] = c ? [c, l4, pm] : [l4, pm]
  for (const { endpoint, chain } of plan.endpointChains) {
    nat.declare(chain)
    // Hairpin: a pod reaching itself through the service must be masqueraded to get the reply.
    const hairpin = src(endpoint.ip)
    nat.add(chain, rule(c ? [c, hairpin] : [hairpin], markMasq), () => origin(sp, 'hairpin-masquerade', undefined, { endpoint: endpointRef(endpoint) }))
    let matches = dnatMatches
    if (sticky) {
      const recent: Match = { kind: 'recent', name: chain, op: 'set' }
      matches = c ? [c, recent, l4, pm] : [recent, l4, pm]
    }
    nat.add(chain, { matches, target: { kind: 'dnat', to: endpoint.endpoint } }, () => origin(sp, 'endpoint-dnat', undefined, { endpoint: endpointRef(endpoint) }))
  }
}

const clusterIPField: ServiceField = { path: 'spec.clusterIP' }
const nodePortField: ServiceField = { path: 'spec.ports[].nodePort' }
const etpField: ServiceField = { path: 'spec.externalTrafficPolicy' }
const externalIPField = (address: string): ServiceField => ({ path: 'spec.externalIPs', address })
const ingressField = (address: string): ServiceField => ({ path: 'status.loadBalancer.ingress', address })

type OriginDetail = Pick<ServicePortOrigin, 'internalTrafficPolicy' | 'config' | 'endpoint' | 'endpointCount' | 'nodeIP'>

/** The typed origin of a service port's rule; only called when provenance is asked for. */
function origin(sp: ServicePortInfo, role: ServicePortRole, field: ServiceField | undefined, detail?: OriginDetail): ServicePortOrigin {
  return { kind: 'service-port', service: sp.name, portIndex: sp.portIndex, role, field, ...detail }
}

function endpointRef(ep: EndpointInfo): { slice: string; endpoint: string; nodeName: string | undefined } {
  return { slice: ep.slice, endpoint: ep.endpoint, nodeName: ep.nodeName }
}
