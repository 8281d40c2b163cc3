/**
 * xt_recent semantics: per-name lists of addresses with the times they were seen, and the
 * set / rcheck / update / remove checks with --seconds, --hitcount and --reap. Times are
 * milliseconds from an injected Clock. The state is the only mutable thing the interpreter keeps.
 */
import type { PacketAddress } from './address.js'
import type { CompiledMatch } from './compiled.js'
import type { RecentEffect } from './types.js'

/** Kernel default ip_pkt_list_tot: timestamps kept per address. */
const maxStamps = 20

export interface RecentEntry {
  readonly address: string
  /** Oldest first. */
  readonly stamps: number[]
}

export interface RecentState {
  readonly lists: Map<string, Map<number | string, RecentEntry>>
}

export function createRecentState(): RecentState {
  return { lists: new Map() }
}

function touch(state: RecentState, name: string, a: PacketAddress, now: number): void {
  let list = state.lists.get(name)
  if (!list) state.lists.set(name, (list = new Map()))
  let e = list.get(a.key)
  if (!e) list.set(a.key, (e = { address: a.text, stamps: [] }))
  e.stamps.push(now)
  if (e.stamps.length > maxStamps) e.stamps.shift()
}

export type RecentMatch = Extract<CompiledMatch, { k: 'recent' }>

/**
 * Evaluates one `-m recent` match. With `mutate`, applies set/update/remove/reap to `state`;
 * without, leaves it alone. Either way pushes the list changes onto `effects` when given.
 */
export function checkRecent(
  state: RecentState | undefined,
  m: RecentMatch,
  src: PacketAddress,
  dst: PacketAddress,
  now: number,
  mutate: boolean,
  effects: RecentEffect[] | undefined,
): boolean {
  const a = m.rdest ? dst : src
  if (m.op === 'set') {
    if (mutate && state) touch(state, m.name, a, now)
    effects?.push({ name: m.name, address: a.text, op: 'set' })
    return true
  }
  const list = state?.lists.get(m.name)
  const e = list?.get(a.key)
  if (!list || !e) return false
  if (m.op === 'remove') {
    if (mutate) list.delete(a.key)
    effects?.push({ name: m.name, address: a.text, op: 'remove' })
    return true
  }
  let hit = true
  if (m.seconds !== undefined || m.hitcount !== undefined) {
    const since = m.seconds !== undefined ? now - m.seconds * 1000 : -Infinity
    let hits = 0
    hit = false
    for (const s of e.stamps) {
      if (s < since) continue
      hits++
      if (!m.hitcount || hits >= m.hitcount) {
        hit = true
        break
      }
    }
    if (mutate && m.reap && m.seconds !== undefined) {
      for (const [k, other] of list) if (other !== e && other.stamps[other.stamps.length - 1]! < since) list.delete(k)
    }
  }
  if (hit && m.op === 'update') {
    if (mutate && state) touch(state, m.name, a, now)
    effects?.push({ name: m.name, address: a.text, op: 'update' })
  }
  return hit
}
