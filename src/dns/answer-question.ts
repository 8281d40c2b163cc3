/**
 * One question against the cluster zone -> the answer an authoritative server gives: records,
 * CNAME chains inside the zone, SRV targets' addresses as additionals, NODATA and NXDOMAIN with
 * the SOA in authority (RFC 2308 negative caching), pod names computed from the address in them,
 * REFUSED outside the zone (kpe forwards nothing off the machine). Pure.
 */
import { parseIP } from '../net/index.js'
import { canonicalName, type DnsRecord } from './dns-records.js'
import { zoneSoa, type DnsZone } from './dns-zone.js'

export type DnsRcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED'

export interface DnsQuestion {
  readonly name: string
  /** A record type as dns-packet names it ('A', 'SRV', 'ANY', 'MX', ...). */
  readonly type: string
}

export interface DnsAnswer {
  readonly rcode: DnsRcode
  readonly authoritative: boolean
  readonly answers: readonly DnsRecord[]
  readonly authority: readonly DnsRecord[]
  readonly additionals: readonly DnsRecord[]
}

const maxCnameHops = 8
const reverseZones = ['in-addr.arpa', 'ip6.arpa'] as const

const inZone = (name: string, zone: string): boolean => name === zone || name.endsWith(`.${zone}`)

/** `10-244-1-5.NS.pod.DOMAIN` (or a dashed IPv6 address): the A/AAAA record the name spells out. */
function podRecord(zone: DnsZone, name: string, owner: string): DnsRecord | 'nxdomain' | undefined {
  const suffix = `.pod.${zone.domain}`
  if (!name.endsWith(suffix)) return undefined
  const labels = name.slice(0, -suffix.length).split('.')
  if (labels.length === 1) return labels[0] === '' ? undefined : 'nxdomain' // NS.pod.DOMAIN: an empty non-terminal
  if (labels.length !== 2) return 'nxdomain'
  const text = labels[0]!
  const ip = parseIP(/^\d+-\d+-\d+-\d+$/.test(text) ? text.replace(/-/g, '.') : text.replace(/-/g, ':'))
  if (ip === undefined) return 'nxdomain'
  return ip.includes(':') ? { name: owner, type: 'AAAA', class: 'IN', ttl: zone.ttl, data: ip } : { name: owner, type: 'A', class: 'IN', ttl: zone.ttl, data: ip }
}

const matches = (r: DnsRecord, type: string): boolean => type === 'ANY' || r.type === type
const renamed = (records: readonly DnsRecord[], owner: string): DnsRecord[] => records.map((r) => ({ ...r, name: owner }))

export function answerQuestion(zone: DnsZone, q: DnsQuestion): DnsAnswer {
  const name = canonicalName(q.name)
  const type = q.type.toUpperCase()
  const reverse = reverseZones.find((rz) => inZone(name, rz))
  if (!inZone(name, zone.domain) && reverse === undefined) return { rcode: 'REFUSED', authoritative: false, answers: [], authority: [], additionals: [] }
  const soa = reverse === undefined ? zone.soa : zoneSoa(reverse, zone.ttl)
  const negative = (rcode: DnsRcode, answers: DnsRecord[] = []): DnsAnswer => ({ rcode, authoritative: true, answers, authority: [soa], additionals: [] })

  if (name === zone.domain && (type === 'SOA' || type === 'ANY')) return { rcode: 'NOERROR', authoritative: true, answers: [{ ...zone.soa, name: q.name }], authority: [], additionals: [] }
  const pod = podRecord(zone, name, q.name)
  if (pod === 'nxdomain') return negative('NXDOMAIN')
  if (pod !== undefined) return matches(pod, type) ? { rcode: 'NOERROR', authoritative: true, answers: [pod], authority: [], additionals: [] } : negative('NOERROR')

  const answers: DnsRecord[] = []
  let owner = q.name
  let current = name
  for (let hop = 0; hop <= maxCnameHops; hop++) {
    const records = zone.records.get(current)
    if (records === undefined) return zone.names.has(current) ? negative('NOERROR', answers) : negative('NXDOMAIN', answers)
    const cname = records.find((r) => r.type === 'CNAME')
    if (cname && type !== 'CNAME' && type !== 'ANY') {
      answers.push({ ...cname, name: owner })
      const target = canonicalName(cname.data as string)
      // A target outside the zone is the client's resolver's to follow (kpe forwards nothing).
      if (!inZone(target, zone.domain)) return { rcode: 'NOERROR', authoritative: true, answers, authority: [], additionals: [] }
      owner = target
      current = target
      continue
    }
    const found = renamed(records.filter((r) => matches(r, type)), owner)
    if (found.length === 0) return negative('NOERROR', answers)
    answers.push(...found)
    return { rcode: 'NOERROR', authoritative: true, answers, authority: [], additionals: additionalsFor(zone, found) }
  }
  // A CNAME loop longer than any real chain: answer what was followed.
  return { rcode: 'NOERROR', authoritative: true, answers, authority: [], additionals: [] }
}

/** The A/AAAA records of SRV targets (the specification allows them in Additional). */
function additionalsFor(zone: DnsZone, answers: readonly DnsRecord[]): DnsRecord[] {
  const out: DnsRecord[] = []
  for (const r of answers) {
    if (r.type !== 'SRV') continue
    for (const a of zone.records.get(canonicalName(r.data.target)) ?? []) if (a.type === 'A' || a.type === 'AAAA') out.push(a)
  }
  return out.filter((r, i) => out.findIndex((o) => o.name === r.name && o.data === r.data) === i)
}
