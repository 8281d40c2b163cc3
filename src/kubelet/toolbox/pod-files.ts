/**
 * The files kubelet writes into every container, as it writes them: /etc/resolv.conf for
 * dnsPolicy ClusterFirst (the settings are cluster DNS's podResolvConf: search
 * NAMESPACE.svc.DOMAIN svc.DOMAIN DOMAIN, the kube-dns ClusterIP, ndots:5) and the managed
 * /etc/hosts (loopback lines, the pod's own address and name, then hostAliases). Pure.
 */
import type { PodResolvConf } from '../../dns/index.js'

export function renderResolvConf(c: PodResolvConf): string {
  return `search ${c.search.join(' ')}\nnameserver ${c.nameserver}\noptions ndots:${c.ndots}\n`
}

export interface HostsFilePod {
  readonly podIPs: readonly string[]
  readonly hostname: string
  /** spec.subdomain: adds HOSTNAME.SUBDOMAIN.NAMESPACE.svc.DOMAIN before the short name. */
  readonly subdomain?: string
  readonly namespace: string
  readonly clusterDomain: string
  readonly hostAliases?: readonly { readonly ip: string; readonly hostnames: readonly string[] }[]
}

export function renderHostsFile(p: HostsFilePod): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ]
  const names = p.subdomain ? `${p.hostname}.${p.subdomain}.${p.namespace}.svc.${p.clusterDomain}\t${p.hostname}` : p.hostname
  for (const ip of p.podIPs) lines.push(`${ip}\t${names}`)
  if (p.hostAliases && p.hostAliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.')
    for (const a of p.hostAliases) lines.push(`${a.ip}\t${a.hostnames.join('\t')}`)
  }
  return `${lines.join('\n')}\n`
}
