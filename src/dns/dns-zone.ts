/**
 * The cluster zone: every record the Kubernetes DNS specification asks for, built from Services,
 * EndpointSlices and Pods (A/AAAA, SRV for named ports, PTR, CNAME for ExternalName, endpoint
 * and pod hostnames). Pure data; an object whose fields cannot be read is left out and listed.
 */
import type { EndpointSlice, Pod, Service } from '../api/index.js'
import { isPodReady, podIPs, serviceNameLabel } from '../api/index.js'
import { parseIP, type IPAddress } from '../net/index.js'
import { canonicalName, reverseName, type DnsRecord, type SoaData } from './dns-records.js'

/** The kubelet's default --cluster-domain; a KpeCluster file may set another (clusterDomain). */
export const defaultClusterDomain = 'cluster.local'
/** The schema version of the specification kpe follows (kubernetes/dns docs/specification.md). */
export const dnsSchemaVersion = '1.0.1'
/** kubeadm's CoreDNS configuration (`kubernetes cluster.local ... { ttl 30 }`). */
export const defaultRecordTtl = 30
const versionTtl = 28_800

export interface DnsZoneInput {
  readonly services: readonly Service[]
  readonly endpointSlices: readonly EndpointSlice[]
  readonly pods: readonly Pod[]
  /** The kubelet's --cluster-domain. */
  readonly clusterDomain: string
  readonly ttl?: number
}

export interface DnsZone {
  readonly domain: string
  readonly ttl: number
  /** Owner name (canonical) -> its records. */
  readonly records: ReadonlyMap<string, readonly DnsRecord[]>
  /** Every name that exists, records or not (empty non-terminals: `svc.cluster.local`): NODATA, not NXDOMAIN. */
  readonly names: ReadonlySet<string>
  readonly soa: DnsRecord & { readonly type: 'SOA' }
  /** Objects whose fields could not be read; the zone is complete without them. */
  readonly skipped: readonly { readonly kind: string; readonly key: string; readonly error: string }[]
}

/** The SOA CoreDNS's kubernetes plugin answers with: negative answers are cached for the record TTL. */
export function zoneSoa(domain: string, ttl: number): DnsRecord & { readonly type: 'SOA' } {
  const data: SoaData = { mname: `ns.dns.${domain}`, rname: `hostmaster.${domain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86_400, minimum: ttl }
  return { name: domain, type: 'SOA', class: 'IN', ttl, data }
}

class ZoneBuilder {
  readonly records = new Map<string, DnsRecord[]>()
  readonly names = new Set<string>()
  readonly #seen = new Set<string>()
  constructor(readonly domain: string, readonly ttl: number) {
    this.names.add(domain)
  }

  add(record: DnsRecord): void {
    const name = canonicalName(record.name)
    const id = `${name} ${record.type} ${JSON.stringify(record.data)}`
    if (this.#seen.has(id)) return
    this.#seen.add(id)
    const list = this.records.get(name)
    if (list) list.push(record)
    else this.records.set(name, [record])
    // Ancestors inside the zone exist too (reverse names are their own zones: only the owner).
    if (name.endsWith(`.${this.domain}`)) {
      for (let n = name; n !== this.domain && n.includes('.'); n = n.slice(n.indexOf('.') + 1)) this.names.add(n)
    } else {
      this.names.add(name)
    }
  }

  address(name: string, ip: IPAddress): void {
    this.add(ip.includes(':') ? { name, type: 'AAAA', class: 'IN', ttl: this.ttl, data: ip } : { name, type: 'A', class: 'IN', ttl: this.ttl, data: ip })
  }

  ptr(ip: IPAddress, target: string): void {
    this.add({ name: reverseName(ip), type: 'PTR', class: 'IN', ttl: this.ttl, data: target })
  }

  srv(name: string, port: number, target: string): void {
    this.add({ name, type: 'SRV', class: 'IN', ttl: this.ttl, data: { priority: 0, weight: 100, port, target } })
  }
}

const ipsOf = (texts: readonly (string | undefined)[]): IPAddress[] =>
  texts.flatMap((t) => {
    const ip = typeof t === 'string' ? parseIP(t) : undefined
    return ip === undefined ? [] : [ip]
  })

/** A unique name for an endpoint without a hostname, as CoreDNS writes it: its address, dashed. */
export function endpointHostname(ip: IPAddress): string {
  return ip.replace(/[.:]/g, '-')
}

function isHeadless(svc: Service): boolean {
  return svc.spec.clusterIP === 'None' || (svc.spec.clusterIPs?.[0] === 'None')
}

function addService(z: ZoneBuilder, svc: Service, slices: readonly EndpointSlice[]): void {
  const ns = svc.metadata.namespace ?? 'default'
  const fqdn = `${svc.metadata.name}.${ns}.svc.${z.domain}`
  if (svc.spec.type === 'ExternalName') {
    const target = svc.spec.externalName
    if (typeof target !== 'string' || target === '') throw new TypeError('spec.externalName: expected a DNS name')
    z.add({ name: fqdn, type: 'CNAME', class: 'IN', ttl: z.ttl, data: canonicalName(target) })
    return
  }
  if (!isHeadless(svc)) {
    const ips = ipsOf(svc.spec.clusterIPs && svc.spec.clusterIPs.length > 0 ? svc.spec.clusterIPs : [svc.spec.clusterIP])
    for (const ip of ips) {
      z.address(fqdn, ip)
      z.ptr(ip, fqdn)
    }
    if (ips.length === 0) return
    for (const p of svc.spec.ports ?? []) {
      if (p.name) z.srv(`_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${fqdn}`, p.port, fqdn)
    }
    return
  }
  // Headless: the ready endpoints themselves. The slice's ports are the ones the endpoints
  // listen on (targetPort resolved), as CoreDNS answers SRV for headless Services.
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue
      for (const ip of ipsOf(ep.addresses ?? [])) {
        const host = `${ep.hostname ?? endpointHostname(ip)}.${fqdn}`
        z.address(fqdn, ip)
        z.address(host, ip)
        z.ptr(ip, host)
        for (const p of slice.ports ?? []) {
          if (p.name && p.port !== undefined) z.srv(`_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${fqdn}`, p.port, host)
        }
      }
    }
  }
}

/**
 * HOSTNAME.SUBDOMAIN.NS.svc.DOMAIN from the pod's own fields: a pod with hostname and subdomain,
 * a headless Service of that name in its namespace, and ready (or the Service publishes
 * not-ready addresses), as the endpoint would be.
 */
function addPodHostname(z: ZoneBuilder, pod: Pod, headless: ReadonlyMap<string, Service>): void {
  const { hostname, subdomain } = pod.spec
  if (typeof hostname !== 'string' || typeof subdomain !== 'string' || hostname === '' || subdomain === '') return
  const ns = pod.metadata.namespace ?? 'default'
  const svc = headless.get(`${ns}/${subdomain}`)
  // A terminating pod's endpoint is not ready (the EndpointSlice controller's rule), however Ready the pod still is.
  const ready = isPodReady(pod) && !pod.metadata.deletionTimestamp
  if (!svc || (!svc.spec.publishNotReadyAddresses && !ready)) return
  const host = `${hostname}.${subdomain}.${ns}.svc.${z.domain}`
  for (const ip of ipsOf(podIPs(pod))) {
    z.address(host, ip)
    z.address(`${subdomain}.${ns}.svc.${z.domain}`, ip)
    z.ptr(ip, host)
  }
}

export function buildDnsZone(input: DnsZoneInput): DnsZone {
  const domain = canonicalName(input.clusterDomain)
  const ttl = input.ttl ?? defaultRecordTtl
  const z = new ZoneBuilder(domain, ttl)
  const skipped: { kind: string; key: string; error: string }[] = []
  // Each object is built into a scratch zone first and copied over only when whole: one whose
  // fields cannot be read (stored before validation) adds nothing and is listed.
  const guard = (kind: string, o: { metadata?: { namespace?: string; name?: string } }, fn: () => void): void => {
    try {
      fn()
    } catch (err) {
      skipped.push({ kind, key: `${String(o?.metadata?.namespace ?? 'default')}/${String(o?.metadata?.name ?? '')}`, error: err instanceof Error ? err.message : String(err) })
    }
  }
  z.add({ name: `dns-version.${domain}`, type: 'TXT', class: 'IN', ttl: versionTtl, data: [dnsSchemaVersion] })
  z.names.add(`svc.${domain}`)
  z.names.add(`pod.${domain}`)
  const slicesByService = new Map<string, EndpointSlice[]>()
  for (const s of input.endpointSlices) {
    const owner = s?.metadata?.labels?.[serviceNameLabel]
    if (typeof owner !== 'string') continue
    const key = `${s.metadata.namespace ?? 'default'}/${owner}`
    const list = slicesByService.get(key)
    if (list) list.push(s)
    else slicesByService.set(key, [s])
  }
  const headless = new Map<string, Service>()
  for (const svc of input.services) {
    guard('Service', svc, () => {
      const scratch = new ZoneBuilder(domain, ttl)
      const key = `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`
      addService(scratch, svc, slicesByService.get(key) ?? [])
      for (const records of scratch.records.values()) for (const r of records) z.add(r)
      if (svc.spec.type !== 'ExternalName' && isHeadless(svc)) headless.set(key, svc)
    })
  }
  for (const pod of input.pods) {
    guard('Pod', pod, () => {
      const scratch = new ZoneBuilder(domain, ttl)
      addPodHostname(scratch, pod, headless)
      for (const records of scratch.records.values()) for (const r of records) z.add(r)
    })
  }
  return { domain, ttl, records: z.records, names: z.names, soa: zoneSoa(domain, ttl), skipped }
}
