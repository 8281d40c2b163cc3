/**
 * Compiles one typed Match or Target into the interpreter's pre-parsed form. Decides what is
 * modelled: anything it cannot evaluate faithfully becomes `unmodelled` with a description,
 * never a guess.
 */
import { assertNever } from '../../../errors.js'
import type { CtState, Match, MarkValue, Target } from '../types.js'
import type { PacketAddress } from './address.js'
import { parseAddressTest, parsePacketAddress } from './address.js'
import type { CompiledChain, CompiledMatch, CompiledTarget } from './compiled.js'
import { ctBits } from './compiled.js'

const always: CompiledMatch = { k: 'always' }
const neg = (n: true | undefined): boolean => n === true

export function compileMatch(m: Match, nextNthId: () => number): CompiledMatch {
  switch (m.kind) {
    case 'source':
    case 'destination': {
      const test = parseAddressTest(m.address)
      if (!test) return { k: 'unmodelled', what: `${m.kind} ${m.address} (not an address or CIDR)` }
      return { k: 'addr', side: m.kind === 'source' ? 'src' : 'dst', test, neg: neg(m.negated) }
    }
    case 'protocol':
      return m.proto === 'all' ? (m.negated ? { k: 'proto', proto: '', neg: false } : always) : { k: 'proto', proto: m.proto, neg: neg(m.negated) }
    case 'in-interface':
    case 'out-interface': {
      const prefix = m.name.endsWith('+')
      return {
        k: 'iface',
        side: m.kind === 'in-interface' ? 'in' : 'out',
        name: prefix ? m.name.slice(0, -1) : m.name,
        prefix,
        neg: neg(m.negated),
      }
    }
    case 'l4-module':
    case 'comment':
    case 'nfacct':
      return always
    case 'dport':
    case 'sport':
      return { k: 'port', side: m.kind, from: m.port.from, to: m.port.to ?? m.port.from, neg: neg(m.negated) }
    case 'multiport':
      return { k: 'multiport', side: m.side, ranges: m.ports.flatMap((p) => [p.from, p.to ?? p.from]), neg: neg(m.negated) }
    case 'addrtype': {
      const tests = [m.src, m.dst].filter((t) => t !== undefined)
      const other = tests.find((t) => t.type !== 'LOCAL')
      if (other) return { k: 'unmodelled', what: `-m addrtype type ${other.type} (only LOCAL is modelled)` }
      return {
        k: 'addrtype-local',
        ...(m.src ? { src: !m.src.negated } : {}),
        ...(m.dst ? { dst: !m.dst.negated } : {}),
      }
    }
    case 'statistic-random':
      return { k: 'random', p: m.probability }
    case 'statistic-nth':
      return { k: 'nth', every: m.every, packet: m.packet, id: nextNthId() }
    case 'recent':
      if (m.mask !== undefined) return { k: 'unmodelled', what: `-m recent --mask ${m.mask}` }
      return {
        k: 'recent',
        name: m.name,
        op: m.op,
        ...(m.seconds !== undefined ? { seconds: m.seconds } : {}),
        ...(m.hitcount !== undefined ? { hitcount: m.hitcount } : {}),
        reap: m.reap === true,
        rdest: m.side === 'rdest',
      }
    case 'mark':
      return { k: 'mark', value: m.value.value >>> 0, mask: m.mask ? m.mask.value >>> 0 : 0xffffffff, neg: neg(m.negated) }
    case 'conntrack':
      return { k: 'ct', bits: m.states.reduce((b, s: CtState) => b | ctBits[s], 0), neg: neg(m.negated) }
    case 'physdev':
      return { k: 'unmodelled', what: `-m physdev ${m.tokens.join(' ')}`.trim() }
    case 'unknown':
      return { k: 'unmodelled', what: `-m ${m.module} ${m.tokens.join(' ')}`.trim() }
    default:
      return assertNever(m)
  }
}

/** `ip`, `ip:port`, `[ip6]`, `[ip6]:port`; ranges and port ranges are not modelled. */
function parseDnatTo(to: string): { address: string; port?: number; dst: PacketAddress } | undefined {
  const bracket = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(to)
  const plain = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(to)
  const m = bracket ?? plain
  if (!m || (bracket === null && to.split(':').length > 2)) return undefined
  const dst = parsePacketAddress(m[1]!)
  if (!dst) return undefined
  const port = m[2] === undefined ? undefined : Number(m[2])
  if (port !== undefined && port > 65535) return undefined
  return { address: m[1]!, dst, ...(port !== undefined ? { port } : {}) }
}

function markTarget(op: Extract<Target, { kind: 'mark' }>['op'], value: MarkValue, mask: MarkValue | undefined): CompiledTarget {
  const v = value.value >>> 0
  // libxt_MARK turns every form into (mark & ~mask) ^ value.
  switch (op) {
    case 'or':
      return { k: 'mark', and: ~v >>> 0, xor: v }
    case 'xor':
      return { k: 'mark', and: 0xffffffff, xor: v }
    case 'and':
      return { k: 'mark', and: v, xor: 0 }
    case 'set':
      return { k: 'mark', and: ~((mask ? mask.value : 0xffffffff) | v) >>> 0, xor: v }
    case 'set-xmark':
      return { k: 'mark', and: ~(mask ? mask.value : 0xffffffff) >>> 0, xor: v }
    default:
      return assertNever(op)
  }
}

export function compileTarget(t: Target | undefined, resolve: (name: string) => CompiledChain | undefined): CompiledTarget {
  if (t === undefined) return { k: 'none' }
  switch (t.kind) {
    case 'jump':
    case 'goto': {
      const chain = resolve(t.chain)
      if (!chain) return { k: 'unmodelled', what: `${t.kind === 'jump' ? '-j' : '-g'} ${t.chain} (no such chain)` }
      return { k: t.kind, chain }
    }
    case 'verdict':
      return { k: t.verdict === 'ACCEPT' ? 'accept' : t.verdict === 'DROP' ? 'drop' : 'return' }
    case 'reject':
      return t.with === undefined ? { k: 'reject' } : { k: 'reject', with: t.with }
    case 'dnat': {
      const to = parseDnatTo(t.to)
      if (!to) return { k: 'unmodelled', what: `-j DNAT --to-destination ${t.to}` }
      return { k: 'dnat', to: t.to, ...to }
    }
    case 'snat':
      return { k: 'snat', to: t.to }
    case 'masquerade':
      return { k: 'masquerade' }
    case 'mark':
      return markTarget(t.op, t.value, t.mask)
    case 'unknown':
      return { k: 'unmodelled', what: `-j ${t.name} ${t.tokens.join(' ')}`.trim() }
    default:
      return assertNever(t)
  }
}
