/**
 * The `-m MODULE` options kpe types: which options each module takes, and how a module's
 * collected options become one typed Match. Anything a Match cannot hold exactly (an unknown
 * option, a negation the AST has no place for) makes the caller keep the module as tokens.
 */
import type { Match } from './types.js'
import type { ValueSite } from './parse-values.js'
import { fail, parseCtStates, parseMark, parsePortList, parseProbability, parseUint } from './parse-values.js'

/** An option as written inside a module: `[!] --name [arg]`. */
export interface ModuleOption {
  readonly name: string
  readonly negated: boolean
  readonly arg?: string
}

/** Option name -> number of arguments it takes, per typed module. */
export const moduleOptionArity: Readonly<Record<string, Readonly<Record<string, 0 | 1>>>> = {
  comment: { '--comment': 1 },
  addrtype: { '--src-type': 1, '--dst-type': 1 },
  statistic: { '--mode': 1, '--probability': 1, '--every': 1, '--packet': 1 },
  recent: {
    '--name': 1, '--set': 0, '--rcheck': 0, '--update': 0, '--remove': 0, '--seconds': 1, '--reap': 0,
    '--hitcount': 1, '--mask': 1, '--rsource': 0, '--rdest': 0,
  },
  mark: { '--mark': 1 },
  conntrack: { '--ctstate': 1 },
  nfacct: { '--nfacct-name': 1 },
  multiport: { '--dports': 1, '--destination-ports': 1, '--sports': 1, '--source-ports': 1, '--ports': 1 },
}

/** Port options of the tcp/udp/sctp modules: each becomes its own Match. */
export const l4PortOptions: Readonly<Record<string, 'dport' | 'sport'>> = {
  '--dport': 'dport', '--destination-port': 'dport', '--sport': 'sport', '--source-port': 'sport',
}

export const l4Modules: ReadonlySet<string> = new Set(['tcp', 'udp', 'sctp'])

const defaultRecentMasks: ReadonlySet<string> = new Set(['255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'])

/**
 * Builds the typed Match for a module's options, or returns undefined when the AST cannot hold
 * them exactly (the caller then keeps `-m module tokens...` as an unknown match). Throws a
 * ParseError for values that are malformed (bad numbers, unknown conntrack states).
 */
export function buildModuleMatch(module: string, opts: readonly ModuleOption[], site: ValueSite): Match | undefined {
  const one = (name: string): ModuleOption | undefined => {
    const found = opts.filter((o) => o.name === name)
    return found.length === 1 ? found[0] : undefined
  }
  const anyNegatedExcept = (allowed: readonly string[]): boolean => opts.some((o) => o.negated && !allowed.includes(o.name))
  switch (module) {
    case 'comment': {
      const c = one('--comment')
      return opts.length === 1 && c && !c.negated ? { kind: 'comment', text: c.arg ?? '' } : undefined
    }
    case 'nfacct': {
      const c = one('--nfacct-name')
      return opts.length === 1 && c && !c.negated ? { kind: 'nfacct', name: c.arg ?? '' } : undefined
    }
    case 'addrtype':
      return addrtypeMatch(opts)
    case 'statistic':
      return anyNegatedExcept([]) ? undefined : statisticMatch(opts, site)
    case 'recent':
      return anyNegatedExcept([]) ? undefined : recentMatch(opts, site)
    case 'mark': {
      const m = one('--mark')
      if (opts.length !== 1 || !m) return undefined
      const v = parseMark(m.arg ?? '', site)
      return { kind: 'mark', value: v.value, ...(v.mask ? { mask: v.mask } : {}), ...(m.negated ? { negated: true as const } : {}) }
    }
    case 'conntrack': {
      const c = one('--ctstate')
      if (opts.length !== 1 || !c) return undefined
      return { kind: 'conntrack', states: parseCtStates(c.arg ?? '', site), ...(c.negated ? { negated: true as const } : {}) }
    }
    case 'multiport':
      return multiportMatch(opts, site)
    default:
      return undefined
  }
}

function addrtypeMatch(opts: readonly ModuleOption[]): Match | undefined {
  let src: { type: string; negated?: true } | undefined
  let dst: { type: string; negated?: true } | undefined
  for (const o of opts) {
    const test = { type: o.arg ?? '', ...(o.negated ? { negated: true as const } : {}) }
    if (o.name === '--src-type' && !src) src = test
    else if (o.name === '--dst-type' && !dst) dst = test
    else return undefined
  }
  if (!src && !dst) return undefined
  return { kind: 'addrtype', ...(src ? { src } : {}), ...(dst ? { dst } : {}) }
}

function statisticMatch(opts: readonly ModuleOption[], site: ValueSite): Match | undefined {
  const byName = new Map<string, string>()
  for (const o of opts) {
    if (byName.has(o.name)) return undefined
    byName.set(o.name, o.arg ?? '')
  }
  const mode = byName.get('--mode')
  if (mode === 'random' && byName.size === 2 && byName.has('--probability')) {
    return { kind: 'statistic-random', probability: parseProbability(byName.get('--probability')!, site) }
  }
  if (mode === 'nth' && byName.has('--every') && byName.size === (byName.has('--packet') ? 3 : 2)) {
    const every = parseUint(byName.get('--every')!, site, '--every')
    const packet = byName.has('--packet') ? parseUint(byName.get('--packet')!, site, '--packet') : 0
    if (every < 1) fail(site, '--every must be at least 1')
    return { kind: 'statistic-nth', every, packet }
  }
  return undefined
}

type RecentOp = 'set' | 'rcheck' | 'update' | 'remove'

function recentMatch(opts: readonly ModuleOption[], site: ValueSite): Match | undefined {
  let op: RecentOp | undefined
  let name: string | undefined
  let seconds: number | undefined
  let hitcount: number | undefined
  let mask: string | undefined
  let reap = false
  let side: 'rsource' | 'rdest' | undefined
  for (const o of opts) {
    switch (o.name) {
      case '--set':
      case '--rcheck':
      case '--update':
      case '--remove':
        if (op) return undefined
        op = o.name.slice(2) as RecentOp
        break
      case '--name':
        if (name !== undefined) return undefined
        name = o.arg ?? ''
        break
      case '--seconds':
        if (seconds !== undefined) return undefined
        seconds = parseUint(o.arg ?? '', site, '--seconds')
        break
      case '--hitcount':
        if (hitcount !== undefined) return undefined
        hitcount = parseUint(o.arg ?? '', site, '--hitcount')
        break
      case '--mask':
        if (mask !== undefined) return undefined
        mask = o.arg ?? ''
        break
      case '--reap':
        if (reap) return undefined
        reap = true
        break
      case '--rsource':
      case '--rdest':
        if (side) return undefined
        side = o.name === '--rdest' ? 'rdest' : 'rsource'
        break
      default:
        return undefined
    }
  }
  if (!op) return undefined
  return {
    kind: 'recent',
    // iptables' default list name when --name is absent
    name: name ?? 'DEFAULT',
    op,
    ...(seconds !== undefined ? { seconds } : {}),
    ...(reap ? { reap: true as const } : {}),
    ...(hitcount !== undefined ? { hitcount } : {}),
    ...(mask !== undefined && !defaultRecentMasks.has(mask.toLowerCase()) ? { mask } : {}),
    ...(side === 'rdest' ? { side } : {}),
  }
}

function multiportMatch(opts: readonly ModuleOption[], site: ValueSite): Match | undefined {
  if (opts.length !== 1) return undefined
  const o = opts[0]!
  const side = o.name === '--dports' || o.name === '--destination-ports' ? 'dports' : o.name === '--ports' ? 'ports' : 'sports'
  return { kind: 'multiport', side, ports: parsePortList(o.arg ?? '', site, o.name), ...(o.negated ? { negated: true as const } : {}) }
}
