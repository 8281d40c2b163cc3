/**
 * What the Services already stored hold: ClusterIPs, NodePorts (and health-check NodePorts)
 * and LoadBalancer ingress IPs. Allocation state is rebuilt from here on every request, so a
 * restart (or a crash) can never forget an allocation that was committed. Pure, but for the
 * index that remembers what each stored Service object holds.
 */
import type { Service } from '../api/index.js'
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

/** Counts of how many Services hold each value. */
class HeldCounts<T> {
  readonly #n = new Map<T, number>()

  add(values: Iterable<T>, by: 1 | -1): void {
    for (const v of values) {
      const n = (this.#n.get(v) ?? 0) + by
      if (n === 0) this.#n.delete(v)
      else this.#n.set(v, n)
    }
  }

  /** Held by some Service, leaving out what `mine` (the Service being written, if stored) holds. */
  heldBeyond(v: T, mine: ReadonlySet<T> | undefined): boolean {
    return (this.#n.get(v) ?? 0) - (mine?.has(v) ? 1 : 0) > 0
  }
}

/** Answers of the index for one request: is a value held by a Service other than the one written? */
export interface HeldLookup {
  clusterIP(ip: string): boolean
  nodePort(port: number): boolean
  loadBalancerIP(ip: string): boolean
}

/**
 * The values every stored Service holds, remembered per stored object. The store's objects are
 * frozen and replaced on every write, so bringing the index up to date reads only the Services
 * whose object is new since the last request, and a create costs a walk over references instead
 * of re-reading every Service (quadratic when 10,000 Services are created).
 */
export class HeldValuesIndex {
  readonly #entries = new Map<Service, { readonly held: HeldValues; mark: number }>()
  readonly #clusterIPs = new HeldCounts<string>()
  readonly #nodePorts = new HeldCounts<number>()
  readonly #loadBalancerIPs = new HeldCounts<string>()
  #mark = 0

  /** Brings the index to `services`, the store's current list, and answers for a write of `stored` (its stored object, if any). */
  lookup(services: readonly Service[], stored: Service | undefined): HeldLookup {
    const mark = ++this.#mark
    for (const s of services) {
      const e = this.#entries.get(s)
      if (e) e.mark = mark
      else this.#count(s, { held: addHeldValues(emptyHeldValues(), s), mark }, 1)
    }
    // entries beyond the list's length are Services replaced or deleted since the last request
    if (this.#entries.size > services.length) {
      for (const [s, e] of this.#entries) if (e.mark !== mark) this.#count(s, e, -1)
    }
    // a store whose get and list hand out different copies still subtracts the right values
    const mine = stored ? this.#entries.get(stored)?.held ?? addHeldValues(emptyHeldValues(), stored) : undefined
    return {
      clusterIP: (ip) => this.#clusterIPs.heldBeyond(ip, mine?.clusterIPs),
      nodePort: (p) => this.#nodePorts.heldBeyond(p, mine?.nodePorts),
      loadBalancerIP: (ip) => this.#loadBalancerIPs.heldBeyond(ip, mine?.loadBalancerIPs),
    }
  }

  #count(s: Service, e: { readonly held: HeldValues; mark: number }, by: 1 | -1): void {
    if (by === 1) this.#entries.set(s, e)
    else this.#entries.delete(s)
    this.#clusterIPs.add(e.held.clusterIPs, by)
    this.#nodePorts.add(e.held.nodePorts, by)
    this.#loadBalancerIPs.add(e.held.loadBalancerIPs, by)
  }
}
