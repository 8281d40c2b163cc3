/**
 * traceLikeUpstream: upstream kube-proxy's test tracer (proxier_test.go tracePacket), as
 * ../shared/kube-proxy-golden/flows/README.md "What the tracer does" defines it: nat PREROUTING,
 * then filter KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-NODEPORTS, KUBE-PROXY-FIREWALL walked
 * directly. Deliberately not netfilter: use explore() for real semantics.
 */
import { cidrContains, parseCidr, parseIP } from '../../net/index.js'
import { findJumpLoop, formatPortSpec, maxJumpsPerHook, RuleLoopError, RuleWalkLimitError, type Chain, type Match, type Rule, type RuleTable, type Table, type TableName } from '../netfilter/index.js'

export interface UpstreamPacket {
  readonly src: string
  /** Lowercase, as the tracer compares it with `-p`. */
  readonly proto: string
  readonly dst: string
  readonly dport: number
}

export interface UpstreamTrace {
  /** Outputs joined with ", " (upstream's `output`). */
  readonly output: string
  readonly masq: boolean
  /** Rules that applied, in walk order (for failure messages). */
  readonly matched: readonly { readonly table: TableName; readonly chain: string; readonly rule: number; readonly ruleRef: Rule }[]
}

interface TraceState {
  src: string
  dst: string
  readonly proto: string
  readonly dport: string
  readonly local: ReadonlySet<string>
  readonly outputs: string[]
  masq: boolean
  readonly matched: { table: TableName; chain: string; rule: number; ruleRef: Rule }[]
  /** Jumps taken so far, bounded as the compiled walk bounds them. */
  jumps: number
}

const filterChains = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']
const maxDepth = 64

function addressMatches(spec: string, ip: string): boolean {
  if (!spec.includes('/')) return spec === ip
  const c = parseCidr(spec)
  const a = parseIP(ip)
  return c !== undefined && a !== undefined && cidrContains(c, a)
}

function typeMatches(test: { type: string; negated?: true }, ip: string, local: ReadonlySet<string>): boolean {
  const actual = local.has(ip) ? 'LOCAL' : ''
  return (actual === test.type) !== (test.negated === true)
}

/** Whether one match holds for the tracer; `false` also for matches on remembered state. */
function holds(m: Match, s: TraceState): boolean {
  const neg = 'negated' in m && m.negated === true
  switch (m.kind) {
    case 'source':
      return addressMatches(m.address, s.src) !== neg
    case 'destination':
      return addressMatches(m.address, s.dst) !== neg
    case 'protocol':
      return (m.proto === s.proto) !== neg
    case 'dport':
      return (formatPortSpec(m.port) === s.dport) !== neg
    case 'addrtype':
      return (!m.src || typeMatches(m.src, s.src, s.local)) && (!m.dst || typeMatches(m.dst, s.dst, s.local))
    case 'recent':
      return m.op !== 'rcheck'
    case 'mark':
    case 'conntrack':
      return false
    default:
      return true
  }
}

function hasProbability(r: Rule): boolean {
  return r.matches.some((m) => m.kind === 'statistic-random')
}

/** Walks `chain`; returns true when the walk terminated (ACCEPT, DROP, REJECT, DNAT). */
function walk(table: Table, chain: Chain, s: TraceState, depth: number): boolean {
  for (let i = 0; i < chain.rules.length; i++) {
    const r = chain.rules[i]!
    const t = r.target
    if (!t || !r.matches.every((m) => holds(m, s))) continue
    s.matched.push({ table: table.name, chain: chain.name, rule: i + 1, ruleRef: r })
    let name: string
    switch (t.kind) {
      case 'jump':
      case 'goto':
        name = t.chain
        break
      case 'verdict':
        if (t.verdict === 'RETURN') continue
        s.outputs.push(t.verdict)
        return true
      case 'reject':
        s.outputs.push('REJECT')
        return true
      case 'dnat':
        s.outputs.push(t.to)
        return true
      default:
        // SNAT, MASQUERADE, MARK, unknown targets: names without a chain; the walk goes on.
        continue
    }
    if (name === 'KUBE-MARK-MASQ') {
      s.masq = true
      continue
    }
    const next = table.chains.find((c) => c.name === name)
    if (!next || depth >= maxDepth) continue
    if (++s.jumps > maxJumpsPerHook) throw new RuleWalkLimitError(table.name, chain.name, maxJumpsPerHook)
    if (walk(table, next, s, depth + 1) && !hasProbability(r)) return true
  }
  return false
}

/** The DNAT address of an output: inside the brackets for IPv6, else the text before the first ":". */
function outputAddress(out: string): string {
  const v6 = /^\[([^\]]*)\]/.exec(out)
  if (v6) return v6[1]!
  const colon = out.indexOf(':')
  return colon < 0 ? out : out.slice(0, colon)
}

/** The walk resolves a name to its first declaration; a loop among those is refused, as compile() does. */
function refuseJumpLoops(table: Table): void {
  const jumps = new Map<string, string[]>()
  for (const c of table.chains) {
    if (jumps.has(c.name)) continue
    jumps.set(c.name, c.rules.flatMap((r) => (r.target?.kind === 'jump' || r.target?.kind === 'goto' ? [r.target.chain] : [])))
  }
  const loop = findJumpLoop(jumps)
  if (loop) throw new RuleLoopError(table.name, loop)
}

export function traceLikeUpstream(table: RuleTable, packet: UpstreamPacket, localIPs: Iterable<string>): UpstreamTrace {
  for (const t of table.tables) refuseJumpLoops(t)
  const s: TraceState = {
    src: packet.src,
    dst: packet.dst,
    proto: packet.proto.toLowerCase(),
    dport: String(packet.dport),
    local: new Set(localIPs),
    outputs: [],
    masq: false,
    matched: [],
    jumps: 0,
  }
  const nat = table.tables.find((t) => t.name === 'nat')
  const pre = nat?.chains.find((c) => c.name === 'PREROUTING')
  if (nat && pre) walk(nat, pre, s, 0)
  if (s.outputs.length > 0) s.dst = outputAddress(s.outputs[0]!)
  const filter = table.tables.find((t) => t.name === 'filter')
  for (const name of filterChains) {
    const c = filter?.chains.find((x) => x.name === name)
    if (filter && c) walk(filter, c, s, 0)
  }
  return { output: s.outputs.join(', '), masq: s.masq, matched: s.matched }
}
