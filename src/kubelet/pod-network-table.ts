/**
 * The pod network table: podIP:port/proto -> the loopback address the pod's server listens on.
 * It is the only way the userspace proxy finds a pod; an address missing here is unreachable.
 * Holds loopback addresses only: `set` refuses anything else.
 */
import { InternalError } from '../errors.js'
import { isLoopback, joinHostPort, parseIP, type IPAddress, type L4Proto } from '../net/index.js'

export interface LoopbackAddress {
  readonly address: string
  readonly port: number
}

export interface PodNetworkEntry {
  readonly local: LoopbackAddress
  /** `namespace/name` of the pod. */
  readonly pod: string
  readonly node: string
}

function canonical(ip: string): string {
  return parseIP(ip) ?? ip
}

export class PodNetworkTable {
  /** pod IP -> `port/proto` -> entry */
  readonly #byIP = new Map<string, Map<string, PodNetworkEntry>>()
  readonly #listeners = new Set<() => void>()

  set(podIP: string, port: number, proto: L4Proto, entry: PodNetworkEntry): void {
    const ip = parseIP(entry.local.address)
    if (ip === undefined || !isLoopback(ip)) throw new InternalError(`pod network table: ${entry.local.address} is not a loopback address`)
    const key = canonical(podIP)
    let ports = this.#byIP.get(key)
    if (!ports) this.#byIP.set(key, (ports = new Map()))
    ports.set(`${port}/${proto}`, entry)
    this.#notify()
  }

  lookup(podIP: string, port: number, proto: L4Proto): PodNetworkEntry | undefined {
    return this.#byIP.get(canonical(podIP))?.get(`${port}/${proto}`)
  }

  /** Removes every entry of one pod IP (the pod stopped). */
  removeIP(podIP: string): void {
    if (this.#byIP.delete(canonical(podIP))) this.#notify()
  }

  hasIP(podIP: string): boolean {
    return this.#byIP.has(canonical(podIP))
  }

  /** `podIP:port/proto` (IPv6 in brackets) and entry, sorted by that text. */
  entries(): [string, PodNetworkEntry][] {
    const out: [string, PodNetworkEntry][] = []
    for (const [ip, ports] of this.#byIP) {
      for (const [pp, e] of ports) {
        const [port, proto] = pp.split('/') as [string, string]
        out.push([`${joinHostPort(ip as IPAddress, Number(port))}/${proto}`, e])
      }
    }
    return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }

  onChange(fn: () => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  #notify(): void {
    for (const fn of this.#listeners) fn()
  }
}
