/**
 * UDP "connections" as conntrack keeps them: a flow per client address:port and destination,
 * chosen once by the rules and then reused until it has been idle for the timeout. The table
 * is plain state over an injected clock; sockets are the caller's business.
 */

export interface FlowEntry<F> {
  readonly flow: F
  lastSeen: number
}

export class UdpFlowTable<F> {
  readonly #flows = new Map<string, FlowEntry<F>>()
  readonly #idleMs: number
  readonly #max: number
  readonly #clock: { now(): number }

  constructor(opts: { readonly idleTimeoutMs: number; readonly maxFlows: number; readonly clock: { now(): number } }) {
    this.#idleMs = opts.idleTimeoutMs
    this.#max = opts.maxFlows
    this.#clock = opts.clock
  }

  static key(clientAddress: string, clientPort: number, dst: string, dport: number): string {
    return `${clientAddress}:${clientPort}>${dst}:${dport}`
  }

  /** The live flow for this key (refreshing it), or undefined when none or expired. */
  get(key: string): F | undefined {
    const e = this.#flows.get(key)
    if (!e) return undefined
    const now = this.#clock.now()
    if (now - e.lastSeen >= this.#idleMs) return undefined
    e.lastSeen = now
    return e.flow
  }

  /** Adds a flow; false when the table is full (the datagram is dropped, as with a full conntrack table). */
  add(key: string, flow: F): boolean {
    if (this.#flows.size >= this.#max && !this.#flows.has(key)) return false
    this.#flows.set(key, { flow, lastSeen: this.#clock.now() })
    return true
  }

  /** A reply passed through: the flow stays alive. */
  touch(key: string): void {
    const e = this.#flows.get(key)
    if (e) e.lastSeen = this.#clock.now()
  }

  /** Removes and returns the flows idle for the timeout or longer. */
  sweep(): F[] {
    const now = this.#clock.now()
    const out: F[] = []
    for (const [k, e] of this.#flows) {
      if (now - e.lastSeen >= this.#idleMs) {
        this.#flows.delete(k)
        out.push(e.flow)
      }
    }
    return out
  }

  remove(key: string): F | undefined {
    const e = this.#flows.get(key)
    this.#flows.delete(key)
    return e?.flow
  }

  drain(): F[] {
    const out = [...this.#flows.values()].map((e) => e.flow)
    this.#flows.clear()
    return out
  }

  get size(): number {
    return this.#flows.size
  }
}
