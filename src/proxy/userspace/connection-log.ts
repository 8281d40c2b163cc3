/**
 * Recent connections and the decision behind each (`kpe connections`): entry point, client,
 * destination, node, verdict, the pod picked, the sampled path's probability and chain path.
 * A bounded ring, newest last. Text fields are stored escaped (printable.ts): clients choose
 * hostnames, Host headers and user names, and `kpe connections` prints them to a terminal.
 */
import { printable } from '../../printable.js'
import type { Decision } from './node-dataplane.js'

export interface ConnectionRecord {
  readonly at: number
  readonly entry: string
  readonly client: string
  readonly destination: string
  readonly node: string
  readonly verdict: 'forward' | 'reject' | 'drop' | 'unreachable' | 'refused'
  readonly pod?: string
  readonly endpoint?: string
  readonly seen?: string
  readonly probability?: number
  readonly path?: readonly string[]
  readonly reason?: string
}

export function recordOf(d: Decision, at: number, entry: string, client: string, destination: string): ConnectionRecord {
  const path = d.outcome.hops.filter((h) => h.matched).map((h) => `${h.table}/${h.chain}#${h.rule}`)
  const base = { at, entry, client, destination, node: d.node, probability: d.outcome.probability, path }
  const r = d.route
  switch (r.kind) {
    case 'forward':
      return { ...base, verdict: 'forward', pod: r.pod, endpoint: r.endpoint, seen: `${r.seen.address}:${r.seen.port}` }
    default:
      return { ...base, verdict: r.kind, reason: r.reason }
  }
}

/** The record with every string field escaped; the chain path is kpe's own text. */
export function printableRecord(r: ConnectionRecord): ConnectionRecord {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'string' ? printable(v) : v
  return out as unknown as ConnectionRecord
}

export class ConnectionLog {
  readonly #max: number
  /** Records, or how to make one: formatting a record (chain path) is left until someone reads it. */
  readonly #items: (ConnectionRecord | (() => ConnectionRecord))[] = []
  readonly #listeners = new Set<(r: ConnectionRecord) => void>()

  constructor(max = 500) {
    this.#max = max
  }

  add(r: ConnectionRecord | (() => ConnectionRecord)): void {
    const item = this.#listeners.size > 0 && typeof r === 'function' ? printableRecord(r()) : typeof r === 'function' ? () => printableRecord(r()) : printableRecord(r)
    this.#items.push(item)
    if (this.#items.length > this.#max) this.#items.shift()
    if (typeof item !== 'function') for (const l of this.#listeners) l(item)
  }

  recent(n = this.#max): ConnectionRecord[] {
    const from = Math.max(0, this.#items.length - n)
    for (let i = from; i < this.#items.length; i++) {
      const item = this.#items[i]!
      if (typeof item === 'function') this.#items[i] = item()
    }
    return this.#items.slice(from) as ConnectionRecord[]
  }

  onRecord(fn: (r: ConnectionRecord) => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }
}
