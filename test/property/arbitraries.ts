/**
 * fast-check arbitraries for the netfilter rule AST, shaped as kube-proxy and
 * renderIptablesRestore print rules, so that parse(render(t)) must give t back. Exported for
 * reuse: ruleTableArb (any table), matchArb / targetArb / ruleArb, and interpretableTableArb
 * (nat + filter with an acyclic jump graph and service-like dispatch rules) with packetArb.
 */
import fc from 'fast-check'
import type { ChainName, IPFamily, L4Proto } from '../../src/net/index.js'
import { chainName } from '../../src/net/index.js'
import type { Chain, Counters, CtState, Match, MarkValue, PortSpec, Rule, RuleTable, Table, TableName, Target } from '../../src/proxy/netfilter/index.js'
import { builtinChains } from '../../src/proxy/netfilter/index.js'
import type { Packet } from '../../src/proxy/netfilter/index.js'

const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined })
const negArb: fc.Arbitrary<{ negated?: true }> = fc.boolean().map((b) => (b ? { negated: true as const } : {}))

export const ipv4Arb = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'))
export const ipv6Arb = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((p) => p.map((x) => x.toString(16)).join(':'))
export const addressSpecArb = fc.oneof(
  ipv4Arb,
  fc.tuple(ipv4Arb, fc.nat(32)).map(([a, p]) => `${a}/${p}`),
  ipv6Arb,
  fc.tuple(ipv6Arb, fc.nat(128)).map(([a, p]) => `${a}/${p}`),
)
export const chainNameArb: fc.Arbitrary<ChainName> = fc
  .stringMatching(/^KUBE-[A-Z0-9]{1,16}$/)
  .map(chainName)
const ident = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/)
const portArb = fc.integer({ min: 0, max: 65535 })
export const portSpecArb: fc.Arbitrary<PortSpec> = fc.oneof(
  portArb.map((from) => ({ from })),
  fc.tuple(portArb, portArb).map(([from, to]) => ({ from, to })),
)
const l4Arb = fc.constantFrom<L4Proto>('tcp', 'udp', 'sctp')
/** Printable ASCII including spaces, quotes and backslashes. */
export const commentTextArb = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 })
export const markValueArb: fc.Arbitrary<MarkValue> = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.nat(8))
  .map(([value, extra]) => ({ value, digits: Math.min(8, Math.max(value.toString(16).length, extra)) }))
const ctStateArb = fc.subarray<CtState>(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'SNAT', 'DNAT'], { minLength: 1 })
/** Tokens of unknown modules/targets: never a flag, never "!". */
/** Options iptables reads as the rule's own (`--src`, `--jump`, ...): never a module's or target's token in a real dump. */
const ruleOptions = new Set(['--source', '--src', '--destination', '--dst', '--protocol', '--in-interface', '--out-interface', '--match', '--jump', '--goto'])
const looseTokenArb = fc.oneof(
  fc.stringMatching(/^--[a-z][a-z-]{0,10}$/).filter((t) => !ruleOptions.has(t)),
  fc.stringMatching(/^[a-z0-9.:/,]{1,10}$/),
  commentTextArb.filter((t) => /\s/.test(t) || t === ''),
)
const knownModules = new Set(['tcp', 'udp', 'sctp', 'multiport', 'comment', 'addrtype', 'statistic', 'recent', 'mark', 'conntrack', 'nfacct', 'physdev', 'm'])
const addrTypeArb = fc.record({ type: fc.constantFrom('LOCAL', 'UNICAST', 'BROADCAST', 'MULTICAST') }).chain((t) => negArb.map((n) => ({ ...t, ...n })))

export const probabilityArb = fc.double({ min: 0, max: 1, noNaN: true }).map((x) => Number(x.toFixed(10)))

export const matchArb: fc.Arbitrary<Match> = fc.oneof(
  fc.tuple(fc.constantFrom('source' as const, 'destination' as const), addressSpecArb, negArb).map(([kind, address, n]) => ({ kind, address, ...n })),
  fc.tuple(fc.constantFrom('tcp', 'udp', 'sctp', 'icmp', 'ipv6-icmp', 'all') as fc.Arbitrary<Extract<Match, { kind: 'protocol' }>['proto']>, negArb).map(([proto, n]) => ({ kind: 'protocol' as const, proto, ...n })),
  fc.tuple(fc.constantFrom('in-interface' as const, 'out-interface' as const), fc.stringMatching(/^[a-z][a-z0-9]{0,7}\+?$/), negArb).map(([kind, name, n]) => ({ kind, name, ...n })),
  l4Arb.map((proto) => ({ kind: 'l4-module' as const, proto })),
  fc.tuple(fc.constantFrom('dport' as const, 'sport' as const), portSpecArb, negArb).map(([kind, port, n]) => ({ kind, port, ...n })),
  fc.tuple(fc.constantFrom('dports' as const, 'sports' as const, 'ports' as const), fc.array(portSpecArb, { minLength: 1, maxLength: 4 }), negArb).map(([side, ports, n]) => ({ kind: 'multiport' as const, side, ports, ...n })),
  commentTextArb.map((text) => ({ kind: 'comment' as const, text })),
  fc.tuple(opt(addrTypeArb), opt(addrTypeArb)).filter(([s, d]) => s !== undefined || d !== undefined).map(([src, dst]) => ({ kind: 'addrtype' as const, ...(src ? { src } : {}), ...(dst ? { dst } : {}) })),
  probabilityArb.map((probability) => ({ kind: 'statistic-random' as const, probability })),
  fc.integer({ min: 1, max: 10 }).chain((every) => fc.nat(every - 1).map((packet) => ({ kind: 'statistic-nth' as const, every, packet }))),
  fc.record(
    {
      name: chainNameArb as fc.Arbitrary<string>,
      op: fc.constantFrom('set' as const, 'rcheck' as const, 'update' as const, 'remove' as const),
      seconds: fc.integer({ min: 1, max: 100000 }),
      reap: fc.constant(true as const),
      hitcount: fc.integer({ min: 1, max: 20 }),
      mask: fc.constantFrom('255.255.255.0', 'ffff:ffff::'),
      side: fc.constant('rdest' as const),
    },
    { requiredKeys: ['name', 'op'] },
  ).map((r) => ({ kind: 'recent' as const, ...r })),
  fc.tuple(markValueArb, opt(markValueArb), negArb).map(([value, mask, n]) => ({ kind: 'mark' as const, value, ...(mask ? { mask } : {}), ...n })),
  fc.tuple(ctStateArb, negArb).map(([states, n]) => ({ kind: 'conntrack' as const, states, ...n })),
  ident.map((name) => ({ kind: 'nfacct' as const, name })),
  fc.array(fc.constantFrom('--physdev-in', 'eth0', '--physdev-is-bridged', '--physdev-out', 'veth+'), { maxLength: 4 }).map((tokens) => ({ kind: 'physdev' as const, tokens })),
  fc.tuple(ident.filter((m) => !knownModules.has(m)), fc.array(looseTokenArb, { maxLength: 4 })).map(([module, tokens]) => ({ kind: 'unknown' as const, module, tokens })),
)

const dnatToArb = fc.oneof(
  fc.tuple(ipv4Arb, fc.integer({ min: 1, max: 65535 })).map(([a, p]) => `${a}:${p}`),
  fc.tuple(ipv6Arb, fc.integer({ min: 1, max: 65535 })).map(([a, p]) => `[${a}]:${p}`),
)
const unknownTargetNames = ['LOG', 'NFLOG', 'CONNMARK', 'TRACE', 'NOTRACK', 'CT']

export const targetArb: fc.Arbitrary<Target> = fc.oneof(
  chainNameArb.map((chain) => ({ kind: 'jump' as const, chain })),
  chainNameArb.map((chain) => ({ kind: 'goto' as const, chain })),
  fc.constantFrom('ACCEPT' as const, 'DROP' as const, 'RETURN' as const).map((verdict) => ({ kind: 'verdict' as const, verdict })),
  opt(fc.constantFrom('icmp-port-unreachable', 'tcp-reset', 'icmp6-port-unreachable')).map((w) => ({ kind: 'reject' as const, ...(w ? { with: w } : {}) })),
  dnatToArb.map((to) => ({ kind: 'dnat' as const, to })),
  fc.tuple(ipv4Arb, fc.boolean()).map(([to, r]) => ({ kind: 'snat' as const, to, ...(r ? { randomFully: true as const } : {}) })),
  fc.tuple(fc.boolean(), opt(fc.constantFrom('1024-65535', '8080'))).map(([r, p]) => ({ kind: 'masquerade' as const, ...(r ? { randomFully: true as const } : {}), ...(p ? { toPorts: p } : {}) })),
  fc.oneof(
    fc.tuple(fc.constantFrom('or' as const, 'xor' as const, 'and' as const), markValueArb).map(([op, value]) => ({ kind: 'mark' as const, op, value })),
    fc.tuple(fc.constantFrom('set' as const, 'set-xmark' as const), markValueArb, opt(markValueArb)).map(([op, value, mask]) => ({ kind: 'mark' as const, op, value, ...(mask ? { mask } : {}) })),
  ),
  fc.tuple(fc.constantFrom(...unknownTargetNames), fc.array(looseTokenArb, { maxLength: 3 })).map(([name, tokens]) => ({ kind: 'unknown' as const, name, tokens })),
)

/** An unknown module or physdev swallows the option tokens after it; a port option there needs its own `-m tcp`. */
function separatePortOptions(ms: readonly Match[]): Match[] {
  const out: Match[] = []
  for (const m of ms) {
    const prev = out[out.length - 1]
    if ((m.kind === 'dport' || m.kind === 'sport') && (prev?.kind === 'unknown' || prev?.kind === 'physdev')) out.push({ kind: 'l4-module', proto: 'tcp' })
    out.push(m)
  }
  return out
}

const countersArb: fc.Arbitrary<Counters> = fc
  .tuple(fc.nat(), fc.nat())
  .filter(([p, b]) => p !== 0 || b !== 0)
  .map(([packets, bytes]) => ({ packets, bytes }))

export const ruleArb: fc.Arbitrary<Rule> = fc
  .record({ matches: fc.array(matchArb, { maxLength: 6 }), target: opt(targetArb), counters: opt(countersArb) })
  .map((r) => ({ matches: separatePortOptions(r.matches), ...(r.target ? { target: r.target } : {}), ...(r.counters ? { counters: r.counters } : {}) }))

function tableArb(name: TableName): fc.Arbitrary<Table> {
  const builtin = builtinChains[name]
  const chainArb = (n: ChainName): fc.Arbitrary<Chain> =>
    fc.record({ rules: fc.array(ruleArb, { maxLength: 5 }), policy: opt(fc.constantFrom('ACCEPT' as const, 'DROP' as const)), counters: opt(countersArb) }).map((c) => ({
      name: n,
      ...(builtin.includes(n) && c.policy ? { policy: c.policy } : {}),
      ...(c.counters ? { counters: c.counters } : {}),
      rules: c.rules,
    }))
  return fc
    .record({
      names: fc.uniqueArray(fc.oneof(fc.constantFrom(...builtin).map(chainName), chainNameArb), { maxLength: 6 }),
      deleted: fc.array(chainNameArb, { maxLength: 2 }),
    })
    .chain(({ names, deleted }) => fc.tuple(...names.map(chainArb)).map((chains) => ({ name, chains, deletedChains: deleted })))
}

export const ruleTableArb: fc.Arbitrary<RuleTable> = fc
  .record({
    family: fc.constantFrom<IPFamily>('IPv4', 'IPv6'),
    names: fc.subarray<TableName>(['filter', 'nat', 'mangle', 'raw', 'security']),
  })
  .chain(({ family, names }) => fc.tuple(...names.map(tableArb)).map((tables) => ({ family, tables })))

// ---------------------------------------------------------------------------------------------
// Interpretable tables: nat + filter, jumps only forward (acyclic), a small address pool so
// packets hit rules, and many service-like `-d IP -p proto --dport P` rules for the dispatch index.

export const poolIPs = ['10.0.0.1', '10.0.0.2', '10.0.1.1', '172.30.0.1', '172.30.0.2', '192.168.0.2', '127.0.0.1'] as const
const poolPorts = [80, 443, 53, 3001] as const
const poolIPArb = fc.constantFrom(...poolIPs)

const interpMatchArb: fc.Arbitrary<Match> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('source' as const, 'destination' as const), fc.oneof(poolIPArb, fc.constantFrom('10.0.0.0/8', '172.30.0.0/16', '0.0.0.0/0', '127.0.0.0/8')), negArb).map(([kind, address, n]) => ({ kind, address, ...n })) },
  { weight: 2, arbitrary: fc.tuple(l4Arb, negArb).map(([proto, n]) => ({ kind: 'protocol' as const, proto, ...n })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...poolPorts), negArb).map(([from, n]) => ({ kind: 'dport' as const, port: { from }, ...n })) },
  { weight: 1, arbitrary: fc.tuple(opt(addrTypeArb), opt(addrTypeArb)).filter(([s, d]) => s !== undefined || d !== undefined).map(([src, dst]) => ({ kind: 'addrtype' as const, ...(src ? { src } : {}), ...(dst ? { dst } : {}) })) },
  { weight: 2, arbitrary: fc.constantFrom(0.5, 0.25, 0.3333333333, 1, 0).map((probability) => ({ kind: 'statistic-random' as const, probability })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom({ value: 0x4000, digits: 4 }), negArb).map(([value, n]) => ({ kind: 'mark' as const, value, mask: value, ...n })) },
  { weight: 1, arbitrary: fc.tuple(ctStateArb, negArb).map(([states, n]) => ({ kind: 'conntrack' as const, states, ...n })) },
  { weight: 1, arbitrary: fc.constantFrom<Match>({ kind: 'comment', text: 'c' }, { kind: 'physdev', tokens: ['--physdev-is-in'] }, { kind: 'unknown', module: 'foo', tokens: [] }) },
  { weight: 1, arbitrary: fc.record({ name: fc.constantFrom('A', 'B'), op: fc.constantFrom('set' as const, 'rcheck' as const) }).map((r) => ({ kind: 'recent' as const, ...r })) },
)

function interpTargetArb(later: readonly ChainName[], nat: boolean): fc.Arbitrary<Target | undefined> {
  const common: fc.Arbitrary<Target | undefined>[] = [
    fc.constantFrom<Target>({ kind: 'verdict', verdict: 'ACCEPT' }, { kind: 'verdict', verdict: 'DROP' }, { kind: 'verdict', verdict: 'RETURN' }, { kind: 'reject' }),
    fc.constantFrom<Target>({ kind: 'mark', op: 'or', value: { value: 0x4000, digits: 4 } }, { kind: 'mark', op: 'xor', value: { value: 0x4000, digits: 4 } }),
    fc.constant(undefined),
  ]
  if (nat) common.push(fc.tuple(poolIPArb, fc.constantFrom(...poolPorts)).map(([a, p]) => ({ kind: 'dnat' as const, to: `${a}:${p}` })), fc.constant<Target>({ kind: 'masquerade' }))
  if (later.length > 0) {
    const c = fc.constantFrom(...later)
    common.push(c.map((chain) => ({ kind: 'jump' as const, chain })), c.map((chain) => ({ kind: 'jump' as const, chain })), c.map((chain) => ({ kind: 'goto' as const, chain })))
  }
  return fc.oneof(...common)
}

/** A service-like dispatch rule: comment, -m proto -p proto -d IP --dport P, then a target. */
function dispatchRuleArb(later: readonly ChainName[], nat: boolean): fc.Arbitrary<Rule> {
  return fc.tuple(l4Arb, poolIPArb, fc.constantFrom(...poolPorts), interpTargetArb(later, nat), fc.array(interpMatchArb, { maxLength: 1 }), fc.boolean(), fc.boolean()).map(([proto, ip, port, target, extra, slash32, extraFirst]) => ({
    matches: [
      ...(extraFirst ? extra : []),
      { kind: 'comment', text: 'svc' },
      { kind: 'l4-module', proto },
      { kind: 'protocol', proto },
      { kind: 'destination', address: slash32 ? `${ip}/32` : ip },
      { kind: 'dport', port: { from: port } },
      ...(extraFirst ? [] : extra),
    ],
    ...(target ? { target } : {}),
  }))
}

function interpTableArb(name: 'nat' | 'filter'): fc.Arbitrary<Table> {
  const nat = name === 'nat'
  return fc.integer({ min: 1, max: 5 }).chain((userCount) => {
    const users = Array.from({ length: userCount }, (_, i) => chainName(`KUBE-C${i}`))
    const rulesFor = (later: readonly ChainName[]): fc.Arbitrary<Rule[]> =>
      fc.array(
        fc.oneof(
          dispatchRuleArb(later, nat),
          fc.tuple(fc.array(interpMatchArb, { maxLength: 3 }), interpTargetArb(later, nat)).map(([matches, target]) => ({ matches, ...(target ? { target } : {}) })),
        ),
        { maxLength: 8 },
      )
    const builtins = builtinChains[name].map(chainName)
    return fc
      .tuple(
        fc.tuple(...builtins.map(() => fc.tuple(rulesFor(users), opt(fc.constantFrom('ACCEPT' as const, 'DROP' as const))))),
        fc.tuple(...users.map((_, i) => rulesFor(users.slice(i + 1)))),
      )
      .map(([b, u]) => ({
        name,
        chains: [
          ...builtins.map((n, i) => ({ name: n, ...(b[i]![1] ? { policy: b[i]![1] } : {}), rules: b[i]![0] })),
          ...users.map((n, i) => ({ name: n, rules: u[i]! })),
        ],
        deletedChains: [],
      }))
  })
}

export const interpretableTableArb: fc.Arbitrary<RuleTable> = fc
  .tuple(interpTableArb('nat'), interpTableArb('filter'))
  .map(([nat, filter]) => ({ family: 'IPv4', tables: [filter, nat] }))

export const packetArb: fc.Arbitrary<Packet> = fc.record({
  src: poolIPArb,
  dst: poolIPArb,
  proto: l4Arb,
  dport: fc.constantFrom(...poolPorts),
  sport: fc.constant(40000),
})
