/** The short summary `kpe up` prints once the demo is up: nodes, services, endpoints, and commands to try. */
import { dirname } from 'node:path'
import type { Node, Service, EndpointSlice } from '../api/index.js'
import { serviceNameLabel } from '../api/index.js'
import { nodeIPs } from '../proxy/model/index.js'
import { renderEntryPoints, type EntryPoints } from './server-info.js'

export interface SummaryInput {
  readonly nodes: readonly Node[]
  readonly services: readonly Service[]
  readonly endpointSlices: readonly EndpointSlice[]
  readonly nodeLoopbacks: ReadonlyMap<string, string>
  readonly apiUrl: string
  readonly kubeconfigPath: string
  readonly socksPort: number | undefined
  readonly httpProxyPort: number | undefined
  readonly agentsUrl: string
  readonly manifests: readonly string[]
  /** Where the objects are kept when not in the data dir (kpe up --store etcd://...). */
  readonly store?: string
  /** Printed as a block and used for the DNS and Ingress suggestions. */
  readonly entryPoints?: EntryPoints
  /** namespace/name of the cluster's pods: a `client` pod is the suggested trace's sender. */
  readonly podNames?: readonly string[]
  /** How many nodes are lightweight (kpe up --nodes): counted, not listed. */
  readonly lightweightNodes?: number
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}`)
}

export function renderUpSummary(s: SummaryInput): string {
  const out: string[] = [`kpe is up: API server ${s.apiUrl}`, '']
  if (s.entryPoints) out.push('entry points (also in server.json):', ...renderEntryPoints(s.entryPoints), '')
  out.push('nodes:')
  out.push(...table([['NAME', 'INTERNAL-IP', 'POD-CIDR', 'NODEPORTS-ON'], ...s.nodes.map((n) => [
    n.metadata.name ?? '', nodeIPs(n).join(','), (n.spec?.podCIDRs ?? [n.spec?.podCIDR ?? '']).join(','), s.nodeLoopbacks.get(n.metadata.name ?? '') ?? '-',
  ])]))
  if (s.lightweightNodes) out.push(`  + ${s.lightweightNodes} lightweight nodes: Ready, pods Running with IPs, no listeners or dataplane (kubectl get nodes)`)
  const ready = (ns: string, name: string): number => s.endpointSlices
    .filter((e) => e.metadata.namespace === ns && e.metadata.labels?.[serviceNameLabel] === name)
    .reduce((n, e) => n + (e.endpoints ?? []).filter((ep) => ep.conditions?.ready !== false).length, 0)
  const services = s.services.filter((svc) => svc.metadata.namespace !== 'default' || svc.metadata.name !== 'kubernetes')
  out.push('', 'services:')
  out.push(...table([['NAMESPACE/NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'READY'], ...services.map((svc) => [
    `${svc.metadata.namespace}/${svc.metadata.name}`,
    svc.spec.type ?? 'ClusterIP',
    svc.spec.clusterIP ?? '',
    (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').join(',') || '-',
    (svc.spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(','),
    String(ready(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '')),
  ])]))
  // Suggest services that answer: with ready endpoints, NodePort type first.
  const serving = services.filter((svc) => ready(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '') > 0 && svc.spec.clusterIP && svc.spec.clusterIP !== 'None')
  const nodePorts = serving.flatMap((svc) => (svc.spec.ports ?? []).filter((p) => p.nodePort).map((p) => ({ svc, p })))
  const firstNodePort = nodePorts.find((x) => x.svc.spec.type === 'NodePort') ?? nodePorts[0]
  const firstLoopback = [...s.nodeLoopbacks.values()][0]
  const web = firstNodePort?.svc ?? serving[0]
  out.push('', 'try:')
  if (firstNodePort && firstLoopback) out.push(`  curl http://${firstLoopback}:${firstNodePort.p.nodePort}/   # NodePort of ${firstNodePort.svc.metadata.name}, entering through the first node`)
  if (web && s.socksPort) out.push(`  curl --socks5-hostname 127.0.0.1:${s.socksPort} http://${web.metadata.name}.${web.metadata.namespace}.svc.cluster.local:${web.spec.ports?.[0]?.port ?? 80}/`)
  if (web && s.httpProxyPort) out.push(`  curl -x http://127.0.0.1:${s.httpProxyPort} http://${web.spec.clusterIP}:${web.spec.ports?.[0]?.port ?? 80}/`)
  const dns = s.entryPoints?.dns
  if (dns && web) out.push(`  dig @${dns.slice(0, dns.lastIndexOf(':'))} -p ${dns.slice(dns.lastIndexOf(':') + 1)} ${web.metadata.name}.${web.metadata.namespace}.svc.cluster.local   # cluster DNS (kube-dns)`)
  const ingress = s.entryPoints?.ingress?.http
  if (ingress) out.push(`  curl -H 'Host: HOST' ${ingress}/PATH   # the Ingress controller (IngressClass kpe; kubectl get ingress)`)
  out.push(`  kubectl --kubeconfig ${s.kubeconfigPath} get svc,endpointslices -o wide`)
  if (web) {
    // the live cluster (its addresses are those kubectl shows), through this kpe up's data dir
    const ns = web.metadata.namespace ?? 'default'
    const from = s.podNames?.includes(`${ns}/client`) ? 'pod/client' : `203.0.113.9 --node ${s.nodes[0]?.metadata.name ?? ''}`
    out.push(`  kpe trace --live --data-dir ${dirname(s.kubeconfigPath)} --from ${from} --to svc/${ns === 'default' ? '' : `${ns}/`}${web.metadata.name}`)
  }
  out.push(`  kpe rules --live --node ${s.nodes[0]?.metadata.name ?? 'NODE'}      # the node's current rules (${s.agentsUrl}/rules/NODE)`)
  out.push(`  curl ${s.agentsUrl}/metrics`)
  out.push('', `Ctrl-C stops everything; state stays in ${s.store ?? 'the data dir'}.`)
  return `${out.join('\n')}\n`
}
