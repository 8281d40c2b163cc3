/**
 * ClusterIP allocation for one Service: IP families and family policy (single/dual stack),
 * requested addresses checked against the service CIDRs and the addresses already taken, free
 * ones picked lowest first. The `kubernetes` Service in `default` takes each range's first
 * address, which dynamic allocation never hands out. Mirrors upstream's service REST alloc.go.
 */
import type { IPFamily } from '../net/index.js'
import { invalidValue, type Allocation } from './causes.js'
import { addressAt, canonicalIP, lowestFreeAddress, rangeContains, type IpRange } from './ip-range.js'
import type { StatusCause } from '../apiserver/index.js'

export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack'

export interface ClusterIPRequest {
  readonly clusterIP?: string | undefined
  readonly clusterIPs?: readonly string[] | undefined
  readonly ipFamilies?: readonly string[] | undefined
  readonly ipFamilyPolicy?: string | undefined
  /** The values the Service had before this update (kept, and may not change). */
  readonly oldClusterIPs?: readonly string[] | undefined
  readonly isKubernetesService: boolean
}

export interface ClusterIPAssignment {
  readonly clusterIPs: readonly string[]
  readonly ipFamilies: readonly IPFamily[]
  readonly ipFamilyPolicy: IPFamilyPolicy
}

const policies: readonly IPFamilyPolicy[] = ['SingleStack', 'PreferDualStack', 'RequireDualStack']

function familyOf(ip: string): IPFamily {
  return ip.includes(':') ? 'IPv6' : 'IPv4'
}

function requestedIPs(req: ClusterIPRequest): { ips: string[]; causes: StatusCause[] } {
  const list = req.clusterIPs && req.clusterIPs.length > 0 ? [...req.clusterIPs] : req.clusterIP ? [req.clusterIP] : []
  const causes: StatusCause[] = []
  if (req.clusterIP && list.length > 0 && list[0] !== req.clusterIP) {
    causes.push(invalidValue('spec.clusterIPs[0]', list[0], 'must match `clusterIP` when both are specified'))
  }
  return { ips: list.filter((ip) => ip !== ''), causes }
}

/** Decides the families (and policy) a Service gets; headless Services too. */
export function chooseFamilies(req: ClusterIPRequest, ranges: readonly IpRange[], ips: readonly string[]): Allocation<{ families: IPFamily[]; policy: IPFamilyPolicy }> {
  const configured = ranges.map((r) => r.family)
  const causes: StatusCause[] = []
  const given = (req.ipFamilies ?? []).map(String)
  const concrete = ips.filter((ip) => ip !== 'None')
  let policy = req.ipFamilyPolicy as IPFamilyPolicy | undefined
  if (policy !== undefined && !policies.includes(policy)) return { kind: 'invalid', causes: [{ reason: 'FieldValueNotSupported', field: 'spec.ipFamilyPolicy', message: `Unsupported value: ${JSON.stringify(policy)}: supported values: ${policies.map((p) => `"${p}"`).join(', ')}` }] }
  if (policy === undefined) policy = given.length > 1 || concrete.length > 1 ? 'RequireDualStack' : 'SingleStack'
  const families: IPFamily[] = []
  const want = (f: string, field: string, value: unknown): void => {
    if (f !== 'IPv4' && f !== 'IPv6') causes.push({ reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: "IPv4", "IPv6"` })
    else if (!configured.includes(f)) causes.push(invalidValue(field, value, `${f} is not configured on this cluster`))
    else if (families.includes(f)) causes.push({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${JSON.stringify(value)}` })
    else families.push(f)
  }
  given.forEach((f, i) => want(f, `spec.ipFamilies[${i}]`, f))
  concrete.forEach((ip, i) => {
    const f = familyOf(ip)
    if (families[i] === undefined) want(f, `spec.clusterIPs[${i}]`, ip)
    else if (families[i] !== f) causes.push(invalidValue(`spec.clusterIPs[${i}]`, ip, `expected an ${families[i]} value as indicated by \`ipFamilies[${i}]\``))
  })
  if (causes.length > 0) return { kind: 'invalid', causes }
  if (families.length === 0) families.push(configured[0] as IPFamily)
  const dualCapable = configured.length > 1
  if (policy === 'RequireDualStack' && !dualCapable) return { kind: 'invalid', causes: [invalidValue('spec.ipFamilyPolicy', policy, 'this cluster is not configured for dual-stack services')] }
  if (policy === 'SingleStack' && families.length > 1) return { kind: 'invalid', causes: [invalidValue('spec.ipFamilies', families, 'when spec.ipFamilyPolicy is SingleStack, only one family may be specified')] }
  if (policy !== 'SingleStack' && dualCapable && families.length === 1) families.push(configured.find((f) => f !== families[0]) as IPFamily)
  return { kind: 'ok', value: { families, policy } }
}

/** Upstream ipallocator's error texts, as kube-apiserver returns them. */
function notInRange(ip: string, r: IpRange): string {
  return `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${r.text}`
}

export function allocateClusterIPs(req: ClusterIPRequest, ranges: readonly IpRange[], isTaken: (ip: string) => boolean): Allocation<ClusterIPAssignment> {
  const { ips, causes } = requestedIPs(req)
  if (causes.length > 0) return { kind: 'invalid', causes }
  const fam = chooseFamilies(req, ranges, ips)
  if (fam.kind !== 'ok') return fam
  const { families, policy } = fam.value
  if (ips[0] === 'None') return { kind: 'ok', value: { clusterIPs: ['None'], ipFamilies: families, ipFamilyPolicy: policy } }
  const old = (req.oldClusterIPs ?? []).filter((ip) => ip !== '' && ip !== 'None')
  const out: string[] = []
  for (const [i, family] of families.entries()) {
    const field = `spec.clusterIPs[${i}]`
    const range = ranges.find((r) => r.family === family) as IpRange
    const wanted = ips[i]
    if (old[i] !== undefined) {
      if (wanted !== undefined && canonicalIP(wanted) !== canonicalIP(old[i])) return { kind: 'invalid', causes: [invalidValue(field, wanted, 'may not change once set')] }
      out.push(old[i])
      continue
    }
    if (wanted !== undefined) {
      const ip = canonicalIP(wanted)
      if (ip === undefined) return { kind: 'invalid', causes: [invalidValue(field, wanted, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')] }
      if (!rangeContains(range, ip)) return { kind: 'invalid', causes: [invalidValue(field, wanted, notInRange(wanted, range))] }
      if (isTaken(ip) || out.includes(ip)) return { kind: 'invalid', causes: [invalidValue(field, wanted, `failed to allocate IP ${wanted}: provided IP is already allocated`)] }
      out.push(ip)
      continue
    }
    if (req.isKubernetesService && !isTaken(addressAt(range, 0n))) {
      out.push(addressAt(range, 0n))
      continue
    }
    const ip = lowestFreeAddress(range, (a) => isTaken(a) || out.includes(a), 1n)
    if (ip === undefined) return { kind: 'full', message: `failed to allocate a serviceIP: range is full (${range.text})` }
    out.push(ip)
  }
  return { kind: 'ok', value: { clusterIPs: out, ipFamilies: families, ipFamilyPolicy: policy } }
}
