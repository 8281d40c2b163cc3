/**
 * Conntrack entries as values, parsed from what the kernel prints: `conntrack -L` lines,
 * `conntrack -E` event lines (behind `[NEW]`) and /proc/net/nf_conntrack lines (behind
 * `ipv4 2`). Pure. The reply
 * tuple's source is the endpoint the kernel's DNAT chose, which is what the hand-in hop logs.
 */
import { parseIP } from '../net/index.js'

export interface ConntrackTuple {
  readonly src: string
  readonly dst: string
  readonly sport: number
  readonly dport: number
}

export interface ConntrackEntry {
  readonly proto: string
  /** TCP state (ESTABLISHED, TIME_WAIT, ...); absent for protocols without one. */
  readonly state?: string
  readonly original: ConntrackTuple
  readonly reply: ConntrackTuple
  /** [ASSURED], [UNREPLIED] and the like, without brackets. */
  readonly flags: readonly string[]
}

const protos = new Set(['tcp', 'udp', 'sctp', 'dccp', 'udplite'])

function port(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,5}$/.test(v)) return undefined
  const n = Number(v)
  return n <= 65535 ? n : undefined
}

/** One line, or undefined for lines that are not a port-carrying entry (ICMP, headers, noise). */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  const words = line.trim().split(/\s+/)
  // `conntrack -E` puts the event first: "[NEW] tcp 6 ...".
  if (/^\[[A-Z]+\]$/.test(words[0] ?? '')) words.shift()
  // /proc/net/nf_conntrack: "ipv4 2 tcp 6 ..."; conntrack -L: "tcp 6 ...".
  const at = words[0] === 'ipv4' || words[0] === 'ipv6' ? 2 : 0
  const proto = words[at]
  if (proto === undefined || !protos.has(proto)) return undefined
  const tuples: Record<string, string>[] = [{}, {}]
  const flags: string[] = []
  let state: string | undefined
  let which = 0
  for (const w of words.slice(at + 3)) {
    const flag = /^\[([A-Z_]+)\]$/.exec(w)
    if (flag) {
      flags.push(flag[1]!)
      continue
    }
    const eq = w.indexOf('=')
    if (eq < 0) {
      if (/^[A-Z_]+$/.test(w) && Object.keys(tuples[0]!).length === 0) state = w
      continue
    }
    const key = w.slice(0, eq)
    if (key !== 'src' && key !== 'dst' && key !== 'sport' && key !== 'dport') continue
    // A key seen twice starts the reply tuple.
    if (which === 0 && key in tuples[0]!) which = 1
    if (key in tuples[which]!) continue
    tuples[which]![key] = w.slice(eq + 1)
  }
  const tuple = (t: Record<string, string>): ConntrackTuple | undefined => {
    const src = t['src'] === undefined ? undefined : parseIP(t['src'])
    const dst = t['dst'] === undefined ? undefined : parseIP(t['dst'])
    const sport = port(t['sport'])
    const dport = port(t['dport'])
    return src === undefined || dst === undefined || sport === undefined || dport === undefined ? undefined : { src, dst, sport, dport }
  }
  const original = tuple(tuples[0]!)
  const reply = tuple(tuples[1]!)
  if (original === undefined || reply === undefined) return undefined
  return { proto, ...(state === undefined ? {} : { state }), original, reply, flags }
}

export function parseConntrackTable(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = []
  for (const line of text.split('\n')) {
    const e = parseConntrackLine(line)
    if (e !== undefined) out.push(e)
  }
  return out
}

/** The entry whose original direction is exactly this tuple (addresses compared in canonical form). */
export function findByOriginal(entries: readonly ConntrackEntry[], proto: string, t: ConntrackTuple): ConntrackEntry | undefined {
  const src = parseIP(t.src) ?? t.src
  const dst = parseIP(t.dst) ?? t.dst
  return entries.find((e) => e.proto === proto && e.original.sport === t.sport && e.original.dport === t.dport && e.original.src === src && e.original.dst === dst)
}

/** Did the kernel rewrite the destination (DNAT)? Then the reply comes from someone else. */
export function isDestinationNATed(e: ConntrackEntry): boolean {
  return e.reply.src !== e.original.dst || e.reply.sport !== e.original.dport
}
