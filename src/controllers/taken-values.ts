/**
 * What the Services already stored hold: ClusterIPs, NodePorts (and health-check NodePorts)
 * and LoadBalancer ingress IPs. Allocation state is rebuilt from here on every request, so a
 * restart (or a crash) can never forget an allocation that was committed. Pure.
 */
import { objectKey, type Service } from '../api/index.js'
import { canonicalIP } from './ip-range.js'

export interface HeldValues {
  readonly clusterIPs: Set<string>
  readonly nodePorts: Set<number>
  readonly loadBalancerIPs: Set<string>
}

export function emptyHeldValues(): HeldValues {
  return { clusterIPs: new Set(), nodePorts: new Set(), loadBalancerIPs: new Set() }
}

/** The elements of a list field, or none when the stored value is not a list. */
function listOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

function ipOf(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' && v !== 'None' ? canonicalIP(v) : undefined
}

function portOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined
}

/**
 * Adds the values `svc` holds to `into`. Every field is read as the store may hold it: a stored
 * Service that validation would refuse today (`ports: [null]`) holds nothing through its
 * unreadable parts, and must not make every later Service create fail (kpe up's bootstrap too).
 */
export function addHeldValues(into: HeldValues, svc: Service): HeldValues {
  const spec = (typeof svc.spec === 'object' && svc.spec !== null ? svc.spec : {}) as Record<string, unknown>
  for (const ip of [spec['clusterIP'], ...listOf(spec['clusterIPs'])]) {
    const c = ipOf(ip)
    if (c) into.clusterIPs.add(c)
  }
  for (const p of listOf(spec['ports'])) {
    const port = typeof p === 'object' && p !== null ? portOf((p as Record<string, unknown>)['nodePort']) : undefined
    if (port !== undefined) into.nodePorts.add(port)
  }
  const hc = portOf(spec['healthCheckNodePort'])
  if (hc !== undefined) into.nodePorts.add(hc)
  if (spec['type'] === 'LoadBalancer') {
    const lb = (svc.status as { loadBalancer?: { ingress?: unknown } } | undefined)?.loadBalancer
    for (const i of listOf(typeof lb === 'object' && lb !== null ? lb.ingress : undefined)) {
      const c = typeof i === 'object' && i !== null ? ipOf((i as Record<string, unknown>)['ip']) : undefined
      if (c) into.loadBalancerIPs.add(c)
    }
  }
  return into
}

/** Values held by every Service except the one named `except` ("namespace/name"). */
export function heldValues(services: readonly Service[], except?: string): HeldValues {
  const out = emptyHeldValues()
  for (const s of services) {
    if (objectKey(s) !== except) addHeldValues(out, s)
  }
  return out
}
