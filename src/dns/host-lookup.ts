/**
 * Name -> addresses the way a pod's resolver finds them: the search list and `ndots:5` the
 * kubelet writes into a pod's /etc/resolv.conf (NS.svc.DOMAIN, svc.DOMAIN, DOMAIN), then A and
 * AAAA answers from the cluster zone, CNAMEs followed. What `getent hosts`/`nslookup` in a pod,
 * and the SOCKS5/HTTP entry points, ask. Pure.
 */
import { answerQuestion, type DnsAnswer } from './answer-question.js'
import type { DnsZone } from './dns-zone.js'

/** The resolver settings the kubelet gives a pod with dnsPolicy ClusterFirst. */
export interface PodResolvConf {
  readonly nameserver: string
  readonly search: readonly string[]
  readonly ndots: number
}

export const kubeDnsClusterIP = '10.96.0.10'

export function podResolvConf(namespace: string, clusterDomain: string, nameserver = kubeDnsClusterIP): PodResolvConf {
  return { nameserver, search: [`${namespace}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain], ndots: 5 }
}

/** The names a stub resolver tries, in order (glibc: a name with ndots or more dots is tried as is first). */
export function searchCandidates(name: string, conf: Pick<PodResolvConf, 'search' | 'ndots'>): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)]
  const expanded = conf.search.map((s) => `${name}.${s}`)
  const dots = name.split('.').length - 1
  return dots >= conf.ndots ? [name, ...expanded] : [...expanded, name]
}

export interface HostLookup {
  /** The name that answered (after the search list; before CNAMEs). */
  readonly name: string
  /** The CNAME targets followed, in order. */
  readonly aliases: readonly string[]
  /** IPv4 first, then IPv6. */
  readonly addresses: readonly string[]
}

const addressesOf = (a: DnsAnswer): string[] => a.answers.flatMap((r) => (r.type === 'A' || r.type === 'AAAA' ? [r.data] : []))

/**
 * The first candidate with addresses; undefined when none has (NXDOMAIN everywhere, or names
 * outside the cluster, which kpe does not resolve).
 */
export function lookupHost(zone: DnsZone, name: string, conf?: Pick<PodResolvConf, 'search' | 'ndots'>): HostLookup | undefined {
  const candidates = conf ? searchCandidates(name, conf) : [name.replace(/\.$/, '')]
  for (const candidate of candidates) {
    const v4 = answerQuestion(zone, { name: candidate, type: 'A' })
    const v6 = answerQuestion(zone, { name: candidate, type: 'AAAA' })
    const addresses = [...addressesOf(v4), ...addressesOf(v6)]
    if (addresses.length === 0) continue
    const aliases = [...v4.answers, ...v6.answers].flatMap((r) => (r.type === 'CNAME' ? [r.data] : []))
    return { name: candidate, aliases: aliases.filter((a, i) => aliases.indexOf(a) === i), addresses }
  }
  return undefined
}
