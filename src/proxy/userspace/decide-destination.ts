/**
 * The entry points' only gate: is HOST:PORT a cluster address? ClusterIPs, LoadBalancer and
 * external IPs, pod IPs, node IPs and names cluster DNS resolves to one of them are (without a
 * resolver: NAME.NAMESPACE.svc[.cluster.local]); loopback, public and private addresses outside
 * the cluster, and every other name are refused with a reason. Pure: no socket.
 */
import type { L4Proto } from '../../net/index.js'
import { isLoopback, parseIP } from '../../net/index.js'
import { parseServiceDnsName } from '../model/index.js'
import type { ClusterAddressKind, ClusterIndex, NameResolver } from './cluster-index.js'

export type Destination =
  | { readonly kind: 'allow'; readonly ip: string; readonly port: number; readonly proto: L4Proto; readonly addressKind: ClusterAddressKind; readonly owner: string; readonly describe: string }
  | { readonly kind: 'refuse'; readonly reason: string }

const refuse = (reason: string): Destination => ({ kind: 'refuse', reason })

function isPrivate(ip: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/.test(ip) || /^f[cd]/i.test(ip) || /^fe80:/i.test(ip)
}

export function decideDestination(host: string, port: number, proto: L4Proto, index: ClusterIndex): Destination {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return refuse(`port ${port} is out of range`)
  const bare = host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase()
  const ip = parseIP(bare)
  if (ip !== undefined) {
    if (isLoopback(ip)) return refuse(`${ip} is a loopback address, not a cluster address`)
    const a = index.addresses.get(ip)
    if (!a) {
      const what = isPrivate(ip) ? 'a private address that no Service, pod or node of the cluster has' : 'outside the cluster (the proxy is not an open proxy)'
      return refuse(`${ip} is ${what}`)
    }
    return { kind: 'allow', ip, port, proto, addressKind: a.kind, owner: a.owner, describe: `${a.kind} of ${a.owner}` }
  }
  const name = bare.replace(/\.$/, '')
  const domain = index.clusterDomain.toLowerCase()
  if (index.resolver) return resolvedDestination(host, name, port, proto, index, index.resolver)
  const svc = parseServiceDnsName(name, domain)
  if (!svc) return refuse(`"${host}" is not a cluster name (only NAME.NAMESPACE.svc.${domain} names are resolved)`)
  const ips = index.services.get(`${svc.name}.${svc.namespace}`)
  if (ips === undefined) return refuse(`no Service ${svc.namespace}/${svc.name} in the cluster`)
  const first = ips[0]
  if (first === undefined) return refuse(`Service ${svc.namespace}/${svc.name} is headless: it has no ClusterIP to connect to`)
  return { kind: 'allow', ip: first, port, proto, addressKind: 'cluster-ip', owner: `${svc.namespace}/${svc.name}`, describe: `${name} (${first})` }
}

/**
 * A name through cluster DNS: NAME.NS.svc, a headless Service (its first ready endpoint), a
 * StatefulSet pod's HOSTNAME.SUBDOMAIN.NS.svc, A-B-C-D.NS.pod; `.svc` names may leave out the
 * cluster domain. The first address that is a cluster address is the destination.
 */
function resolvedDestination(host: string, name: string, port: number, proto: L4Proto, index: ClusterIndex, resolver: NameResolver): Destination {
  const found = resolver.lookupHost(name, { search: [index.clusterDomain], ndots: 1 })
  if (!found) return refuse(`"${host}" does not resolve in the cluster (cluster DNS answers names under ${index.clusterDomain} only)`)
  for (const text of found.addresses) {
    const ip = parseIP(text)
    const a = ip === undefined ? undefined : index.addresses.get(ip)
    if (ip !== undefined && a) return { kind: 'allow', ip, port, proto, addressKind: a.kind, owner: a.owner, describe: `${name} (${ip})` }
  }
  return refuse(`"${host}" resolves to ${found.addresses.join(', ')}, which no Service, pod or node of the cluster has`)
}
