/**
 * Values handed out to requests whose store transaction has not settled yet. Allocation state is
 * otherwise read from committed Services, so without this two concurrent creates could pick the
 * same free address. Stateful shell; entries leave when the admission hook hears the outcome.
 */
import { emptyHeldValues, type HeldValues } from './taken-values.js'

export class InFlightValues {
  readonly #entries = new Set<HeldValues>()

  /** Holds `values` until the returned release function is called (idempotent). */
  reserve(values: HeldValues): () => void {
    this.#entries.add(values)
    return () => { this.#entries.delete(values) }
  }

  snapshot(): HeldValues {
    const out = emptyHeldValues()
    for (const e of this.#entries) {
      for (const ip of e.clusterIPs) out.clusterIPs.add(ip)
      for (const p of e.nodePorts) out.nodePorts.add(p)
      for (const ip of e.loadBalancerIPs) out.loadBalancerIPs.add(ip)
    }
    return out
  }

  get size(): number {
    return this.#entries.size
  }
}
