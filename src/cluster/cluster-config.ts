/**
 * The cluster configuration file (`apiVersion: kpe.io/v1alpha1`, `kind: KpeCluster`): service
 * and cluster CIDRs (dual-stack allowed), node CIDR mask sizes, NodePort range, LoadBalancer
 * pool and the Nodes to register. Parsing, defaulting and validation with field paths; pure.
 * Documented in docs/cluster-config.md.
 */
import { parse as parseYaml } from 'yaml'
import { InputError, type InputLocation } from '../errors.js'
import { cidrsOverlap, parseAddressRange, parsePortRange, serviceRangeOfCidr, type ClusterCidr, type IpRange, type PortRange } from '../controllers/index.js'
import { parseCidr, parseIP, type IPAddress, type IPFamily, type ParsedCidr } from '../net/index.js'
import type { Taint } from '../api/index.js'
import { defaultClusterDomain } from '../dns/index.js'

export const clusterConfigApiVersion = 'kpe.io/v1alpha1'
export const clusterConfigKind = 'KpeCluster'

export interface NodeConfig {
  readonly name: string
  readonly internalIPs: readonly IPAddress[]
  readonly labels: Readonly<Record<string, string>>
  readonly taints: readonly Taint[]
}

/** The validated, defaulted configuration. */
export interface ClusterConfig {
  readonly serviceCIDRs: readonly ParsedCidr[]
  readonly serviceRanges: readonly IpRange[]
  readonly clusterCIDRs: readonly ClusterCidr[]
  readonly nodePortRange: PortRange
  readonly loadBalancerPool: readonly IpRange[]
  readonly nodes: readonly NodeConfig[]
  /** The kubelet's --cluster-domain: cluster DNS serves NAME.NS.svc.<clusterDomain>. */
  readonly clusterDomain?: string
}

export const demoNodes: readonly { name: string; ip: string }[] = [
  { name: 'node-a', ip: '192.168.77.10' },
  { name: 'node-b', ip: '192.168.77.11' },
  { name: 'node-c', ip: '192.168.77.12' },
]

export const defaultClusterConfigText = `apiVersion: ${clusterConfigApiVersion}
kind: ${clusterConfigKind}
serviceCIDR: 10.96.0.0/12
clusterCIDR: 10.244.0.0/16
nodeCIDRMaskSize: { ipv4: 24, ipv6: 64 }
nodePortRange: 30000-32767
loadBalancerPool: [192.168.77.200-192.168.77.250]
nodes:
${demoNodes.map((n) => `- { name: ${n.name}, internalIP: ${n.ip} }`).join('\n')}
`

const knownFields = ['apiVersion', 'kind', 'serviceCIDR', 'clusterCIDR', 'nodeCIDRMaskSize', 'nodePortRange', 'loadBalancerPool', 'nodes', 'clusterDomain'] as const
const knownNodeFields = ['name', 'internalIP', 'labels', 'taints'] as const
const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const
const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

type Obj = Record<string, unknown>

/** An invalid configuration file: the first problem in the message, the others as details. */
export class ClusterConfigError extends InputError {
  override readonly details: readonly string[]
  constructor(location: InputLocation, reason: string, more: readonly string[]) {
    super(location, reason, { hint: 'see docs/cluster-config.md for the fields and their defaults' })
    this.details = more
  }
}

class Problems {
  readonly list: { field: string; reason: string }[] = []
  add(field: string, reason: string): void {
    this.list.push({ field, reason })
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A string ("a,b"), or a list of strings. */
function stringList(v: unknown, field: string, p: Problems): string[] {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[]
  p.add(field, 'must be a string or a list of strings')
  return []
}

function cidrList(v: unknown, field: string, p: Problems): ParsedCidr[] {
  const list = stringList(v, field, p)
  if (list.length === 0 || list.length > 2) p.add(field, 'must hold one CIDR, or two of different IP families (dual-stack)')
  const out: ParsedCidr[] = []
  list.forEach((text, i) => {
    const c = parseCidr(text)
    const f = list.length > 1 ? `${field}[${i}]` : field
    if (!c) return p.add(f, `${JSON.stringify(text)} is not a valid CIDR`)
    if (out.some((o) => o.family === c.family)) return p.add(f, `a second ${c.family} CIDR; dual-stack needs one IPv4 and one IPv6 CIDR`)
    out.push(c)
    return undefined
  })
  return out
}

function maskSizes(v: unknown, p: Problems): Record<IPFamily, number> {
  const out: Record<IPFamily, number> = { IPv4: 24, IPv6: 64 }
  const check = (n: unknown, f: string, family: IPFamily): void => {
    if (typeof n !== 'number' || !Number.isInteger(n)) return p.add(f, 'must be an integer')
    out[family] = n
    return undefined
  }
  if (v === undefined) return out
  if (typeof v === 'number') check(v, 'nodeCIDRMaskSize', 'IPv4')
  else if (isObj(v)) {
    for (const k of Object.keys(v)) if (k !== 'ipv4' && k !== 'ipv6') p.add(`nodeCIDRMaskSize.${k}`, 'unknown field (expected ipv4, ipv6)')
    if (v['ipv4'] !== undefined) check(v['ipv4'], 'nodeCIDRMaskSize.ipv4', 'IPv4')
    if (v['ipv6'] !== undefined) check(v['ipv6'], 'nodeCIDRMaskSize.ipv6', 'IPv6')
  } else p.add('nodeCIDRMaskSize', 'must be an integer (IPv4) or { ipv4: N, ipv6: M }')
  return out
}

function clusterCidrs(cidrs: readonly ParsedCidr[], masks: Record<IPFamily, number>, p: Problems): ClusterCidr[] {
  return cidrs.flatMap((cidr) => {
    const mask = masks[cidr.family]
    const field = `nodeCIDRMaskSize${cidr.family === 'IPv4' ? '.ipv4' : '.ipv6'}`
    const bits = cidr.family === 'IPv4' ? 32 : 128
    if (mask < cidr.prefix || mask > bits) return p.add(field, `${mask} must be between the clusterCIDR prefix (${cidr.prefix}) and ${bits}`), []
    // upstream cidrset refuses more than 2^16 node subnets
    if (mask - cidr.prefix > 16) return p.add(field, `${mask} cuts ${cidr.cidr} into more than 65536 node subnets; use at most /${cidr.prefix + 16}`), []
    return [{ cidr, nodeMaskSize: mask }]
  })
}

function parseNodes(v: unknown, p: Problems): NodeConfig[] {
  if (v === undefined) return demoNodes.map((n) => ({ name: n.name, internalIPs: [n.ip as IPAddress], labels: {}, taints: [] }))
  if (!Array.isArray(v)) return p.add('nodes', 'must be a list'), []
  const seen = new Set<string>()
  return v.flatMap((n, i): NodeConfig[] => {
    const f = `nodes[${i}]`
    if (!isObj(n)) return p.add(f, 'must be a mapping'), []
    for (const k of Object.keys(n)) if (!knownNodeFields.includes(k as never)) p.add(`${f}.${k}`, 'unknown field')
    const name = n['name']
    if (typeof name !== 'string' || !subdomain.test(name) || name.length > 253) p.add(`${f}.name`, 'must be a lowercase RFC 1123 subdomain')
    else if (seen.has(name)) p.add(`${f}.name`, `duplicate node name ${JSON.stringify(name)}`)
    else seen.add(name)
    const ips = n['internalIP'] === undefined ? [] : stringList(n['internalIP'], `${f}.internalIP`, p)
    const internalIPs = ips.flatMap((ip, j) => {
      const parsed = parseIP(ip)
      if (!parsed) p.add(ips.length > 1 ? `${f}.internalIP[${j}]` : `${f}.internalIP`, `${JSON.stringify(ip)} is not a valid IP address`)
      return parsed ? [parsed] : []
    })
    const labels = n['labels'] ?? {}
    if (!isObj(labels) || Object.values(labels).some((x) => typeof x !== 'string')) p.add(`${f}.labels`, 'must be a map of strings')
    const taints = n['taints'] ?? []
    const parsedTaints: Taint[] = []
    if (!Array.isArray(taints)) p.add(`${f}.taints`, 'must be a list')
    else taints.forEach((t, j) => {
      const tf = `${f}.taints[${j}]`
      if (!isObj(t) || typeof t['key'] !== 'string' || t['key'] === '') return p.add(`${tf}.key`, 'is required')
      if (!taintEffects.includes(t['effect'] as never)) return p.add(`${tf}.effect`, `must be one of ${taintEffects.join(', ')}`)
      parsedTaints.push({ key: t['key'], effect: t['effect'] as Taint['effect'], ...(typeof t['value'] === 'string' ? { value: t['value'] } : {}) })
      return undefined
    })
    return typeof name === 'string' ? [{ name, internalIPs, labels: isObj(labels) ? (labels as Record<string, string>) : {}, taints: parsedTaints }] : []
  })
}

function checkOverlaps(svc: readonly ParsedCidr[], cluster: readonly ParsedCidr[], pool: readonly IpRange[], p: Problems): void {
  for (const s of svc) for (const c of cluster) if (cidrsOverlap(s, c)) p.add('serviceCIDR', `${s.cidr} overlaps clusterCIDR ${c.cidr}`)
  pool.forEach((r, i) => {
    for (const c of [...svc, ...cluster]) {
      const bits = c.family === 'IPv4' ? 32 : 128
      const lo = c.network
      const hi = c.network + (1n << BigInt(bits - c.prefix)) - 1n
      if (r.family === c.family && r.first <= hi && r.last >= lo) p.add(`loadBalancerPool[${i}]`, `${r.text} overlaps ${c.cidr}`)
    }
  })
}

/** Validates and defaults a decoded configuration document. Throws InputError naming every bad field. */
export function resolveClusterConfig(doc: unknown, file?: string): ClusterConfig {
  const p = new Problems()
  const d: Obj = doc === undefined || doc === null ? {} : isObj(doc) ? doc : (p.add('', 'must be a mapping'), {})
  for (const k of Object.keys(d)) if (!knownFields.includes(k as never)) p.add(k, 'unknown field')
  if (d['apiVersion'] !== undefined && d['apiVersion'] !== clusterConfigApiVersion) p.add('apiVersion', `must be ${clusterConfigApiVersion}`)
  if (d['kind'] !== undefined && d['kind'] !== clusterConfigKind) p.add('kind', `must be ${clusterConfigKind}`)
  const serviceCIDRs = cidrList(d['serviceCIDR'] ?? '10.96.0.0/12', 'serviceCIDR', p)
  const serviceRanges = serviceCIDRs.flatMap((c) => {
    const r = serviceRangeOfCidr(c.cidr)
    if (!r) p.add('serviceCIDR', `${c.cidr} holds no usable service address`)
    return r ? [r] : []
  })
  const clusterCidrList = cidrList(d['clusterCIDR'] ?? '10.244.0.0/16', 'clusterCIDR', p)
  const clusterCIDRs = clusterCidrs(clusterCidrList, maskSizes(d['nodeCIDRMaskSize'], p), p)
  const portText = d['nodePortRange'] ?? '30000-32767'
  const nodePortRange = typeof portText === 'string' ? parsePortRange(portText) : undefined
  if (!nodePortRange) p.add('nodePortRange', `${JSON.stringify(portText)} is not a port range like 30000-32767`)
  const poolTexts = d['loadBalancerPool'] === undefined ? ['192.168.77.200-192.168.77.250'] : stringList(d['loadBalancerPool'], 'loadBalancerPool', p)
  const loadBalancerPool = poolTexts.flatMap((t, i) => {
    const r = parseAddressRange(t)
    if (!r) p.add(`loadBalancerPool[${i}]`, `${JSON.stringify(t)} is not an address range like 192.168.77.200-192.168.77.250 (or a CIDR)`)
    return r ? [r] : []
  })
  checkOverlaps(serviceCIDRs, clusterCidrList, loadBalancerPool, p)
  const nodes = parseNodes(d['nodes'], p)
  const clusterDomain = d['clusterDomain'] ?? defaultClusterDomain
  if (typeof clusterDomain !== 'string' || !subdomain.test(clusterDomain) || clusterDomain.length > 253) p.add('clusterDomain', 'must be a lowercase DNS domain like cluster.local')
  if (p.list.length > 0) {
    const [first, ...rest] = p.list
    throw new ClusterConfigError({ ...(file ? { file } : {}), object: clusterConfigKind, field: first?.field ?? '' }, first?.reason ?? 'invalid', rest.map((x) => `${x.field}: ${x.reason}`))
  }
  return { serviceCIDRs, serviceRanges, clusterCIDRs, nodePortRange: nodePortRange as PortRange, loadBalancerPool, nodes, clusterDomain: clusterDomain as string }
}

export function parseClusterConfig(text: string, file?: string): ClusterConfig {
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (e) {
    throw new InputError(file ? { file } : {}, `not valid YAML: ${e instanceof Error ? e.message : String(e)}`)
  }
  return resolveClusterConfig(doc, file)
}

export function defaultClusterConfig(): ClusterConfig {
  return resolveClusterConfig({})
}
