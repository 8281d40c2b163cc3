/**
 * The side table through which a pod learns the client address it "saw": the userspace proxy
 * records, for each loopback socket it opens toward a pod, the source address the rules left
 * (masqueraded or original). Keyed by the proxy side's loopback address:port; pod servers stay
 * ordinary servers and look their peer up here.
 */

export interface SeenSource {
  readonly address: string
  readonly port: number
}

export class SeenSourceTable {
  readonly #entries = new Map<string, SeenSource>()

  record(localAddress: string, localPort: number, seen: SeenSource): void {
    this.#entries.set(`${localAddress}:${localPort}`, seen)
  }

  forget(localAddress: string, localPort: number): void {
    this.#entries.delete(`${localAddress}:${localPort}`)
  }

  /** What the pod saw for a peer at remoteAddress:remotePort; the peer itself when unknown. */
  lookup(remoteAddress: string | undefined, remotePort: number | undefined): SeenSource {
    const addr = (remoteAddress ?? '').replace(/^::ffff:/, '')
    return this.#entries.get(`${addr}:${remotePort ?? 0}`) ?? { address: addr, port: remotePort ?? 0 }
  }

  get size(): number {
    return this.#entries.size
  }
}
