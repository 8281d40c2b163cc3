/**
 * The argument state machine for one rule (everything after `-A CHAIN`): basic flags, `-m`
 * module groups, tcp/udp/sctp port options and the target. Options of an unknown module are
 * kept as tokens up to the next `-m`, `-j`, `-g` or basic flag.
 */
import type { Match, Rule, Target } from './types.js'
import type { RestoreToken } from './tokenize-restore.js'
import type { ModuleOption } from './parse-module.js'
import { buildModuleMatch, l4Modules, l4PortOptions, moduleOptionArity } from './parse-module.js'
import { buildTarget } from './parse-target.js'
import type { ValueSite } from './parse-values.js'
import { fail, parsePortSpec, parseProtocol } from './parse-values.js'
import type { L4Proto } from '../../net/index.js'

type BasicKind = 'source' | 'destination' | 'protocol' | 'in-interface' | 'out-interface'

const basicFlags: Readonly<Record<string, BasicKind>> = {
  '-s': 'source', '--source': 'source', '--src': 'source',
  '-d': 'destination', '--destination': 'destination', '--dst': 'destination',
  '-p': 'protocol', '--protocol': 'protocol',
  '-i': 'in-interface', '--in-interface': 'in-interface',
  '-o': 'out-interface', '--out-interface': 'out-interface',
}
const moduleFlags: ReadonlySet<string> = new Set(['-m', '--match'])
const jumpFlags: ReadonlySet<string> = new Set(['-j', '--jump'])
const gotoFlags: ReadonlySet<string> = new Set(['-g', '--goto'])

/** An open `-m` group. `collect` groups keep raw tokens (unknown modules, physdev, fallbacks). */
type Group =
  | { readonly type: 'typed'; readonly module: string; readonly slot: number; readonly opts: ModuleOption[]; readonly raw: string[] }
  | { readonly type: 'l4'; readonly module: L4Proto; readonly slot: number }
  | { readonly type: 'collect'; readonly module: string; readonly slot: number; readonly raw: string[]; readonly physdev: boolean }

export interface ParsedRuleArgs {
  readonly rule: Rule
  /** True when some address in the rule is IPv6 (used to infer the family of a dump). */
  readonly sawIPv6: boolean
}

const isFlagToken = (t: RestoreToken | undefined): boolean =>
  t !== undefined && !t.quoted && (t.text in basicFlags || moduleFlags.has(t.text) || jumpFlags.has(t.text) || gotoFlags.has(t.text))

export function parseRuleArgs(tokens: readonly RestoreToken[], site: ValueSite): ParsedRuleArgs {
  const matches: (Match | undefined)[] = []
  let group: Group | undefined
  let target: Target | undefined
  let negate = false
  let sawIPv6 = false

  const arg = (i: number, flag: string): string => {
    const t = tokens[i]
    if (t === undefined) fail(site, `option ${flag} requires an argument`)
    return t.text
  }
  const closeGroup = (): void => {
    if (!group) return
    const g = group
    group = undefined
    if (g.type === 'l4') return
    if (g.type === 'typed') {
      const m = buildModuleMatch(g.module, g.opts, site)
      matches[g.slot] = m ?? { kind: 'unknown', module: g.module, tokens: g.raw }
    } else {
      matches[g.slot] = g.physdev ? { kind: 'physdev', tokens: g.raw } : { kind: 'unknown', module: g.module, tokens: g.raw }
    }
  }
  /** Turn the open group into a token-collecting one (its options do not fit the AST). */
  const fallBack = (): Extract<Group, { type: 'collect' }> => {
    const g = group!
    if (g.type === 'collect') return g
    if (g.type === 'typed') {
      group = { type: 'collect', module: g.module, slot: g.slot, raw: g.raw, physdev: false }
    } else if (g.slot === matches.length - 1) {
      // `-m tcp` immediately followed by an option kpe does not type: keep the whole module as tokens.
      group = { type: 'collect', module: g.module, slot: g.slot, raw: [], physdev: false }
    } else {
      matches.push(undefined)
      group = { type: 'collect', module: g.module, slot: matches.length - 1, raw: [], physdev: false }
    }
    return group
  }

  for (let i = 0; i < tokens.length; ) {
    const tok = tokens[i]!
    const text = tok.text
    if (!tok.quoted && text === '!') {
      const next = tokens[i + 1]
      if (group?.type === 'collect' && !(next && !next.quoted && next.text in basicFlags)) {
        group.raw.push(text)
        i++
        continue
      }
      if (negate) fail(site, 'multiple "!" flags not allowed')
      if (next === undefined) fail(site, '"!" at end of rule')
      negate = true
      i++
      continue
    }
    if (!tok.quoted && text in basicFlags) {
      closeGroup()
      const kind = basicFlags[text]!
      const value = arg(i + 1, text)
      const neg = negate ? { negated: true as const } : {}
      negate = false
      if (kind === 'protocol') matches.push({ kind, proto: parseProtocol(value, site), ...neg })
      else if (kind === 'source' || kind === 'destination') {
        if (value.includes(':')) sawIPv6 = true
        matches.push({ kind, address: value, ...neg })
      } else matches.push({ kind, name: value, ...neg })
      i += 2
      continue
    }
    if (!tok.quoted && moduleFlags.has(text)) {
      if (negate) fail(site, '"!" before -m is not allowed')
      closeGroup()
      const module = arg(i + 1, text)
      matches.push(undefined)
      const slot = matches.length - 1
      if (l4Modules.has(module)) {
        matches[slot] = { kind: 'l4-module', proto: module as L4Proto }
        group = { type: 'l4', module: module as L4Proto, slot }
      } else if (module in moduleOptionArity) group = { type: 'typed', module, slot, opts: [], raw: [] }
      else group = { type: 'collect', module, slot, raw: [], physdev: module === 'physdev' }
      i += 2
      continue
    }
    if (!tok.quoted && (jumpFlags.has(text) || gotoFlags.has(text))) {
      if (negate) fail(site, `"!" before ${text} is not allowed`)
      closeGroup()
      if (target) fail(site, 'more than one target (-j/-g)')
      const name = arg(i + 1, text)
      if (name === '') fail(site, `empty target name after ${text}`)
      let j = i + 2
      const opts: string[] = []
      while (j < tokens.length && !isFlagToken(tokens[j]) && !(tokens[j]!.text === '!' && !tokens[j]!.quoted)) opts.push(tokens[j++]!.text)
      target = buildTarget(gotoFlags.has(text) ? 'goto' : 'jump', name, opts, site)
      i = j
      continue
    }
    // An option or a stray argument.
    if (group?.type === 'collect') {
      group.raw.push(text)
      i++
      continue
    }
    const isOption = !tok.quoted && text.startsWith('-')
    const arity = isOption && group?.type === 'typed' ? moduleOptionArity[group.module]![text] : undefined
    if (group?.type === 'typed' && arity !== undefined) {
      const value = arity === 1 ? arg(i + 1, text) : undefined
      group.raw.push(...(negate ? ['!'] : []), text, ...(value !== undefined ? [value] : []))
      group.opts.push({ name: text, negated: negate, ...(value !== undefined ? { arg: value } : {}) })
      negate = false
      i += 1 + arity
      continue
    }
    if (group?.type === 'typed' && group.module === 'comment' && !isOption && group.opts.length === 1 && !negate) {
      // Upstream's fake iptables holds unquoted multi-word comments (`--comment kubernetes service
      // portals`); iptables-restore would refuse them. Read the words as one comment.
      const last = group.opts[0]!
      group.opts[0] = { ...last, arg: `${last.arg ?? ''} ${text}` }
      group.raw.push(text)
      i++
      continue
    }
    const portKind = isOption ? l4PortOptions[text] : undefined
    if (portKind !== undefined) {
      if (group?.type !== 'l4') closeGroup()
      const port = parsePortSpec(arg(i + 1, text), site, text)
      matches.push({ kind: portKind, port, ...(negate ? { negated: true as const } : {}) })
      negate = false
      i += 2
      continue
    }
    if (group) {
      const g = fallBack()
      if (negate) g.raw.push('!')
      negate = false
      g.raw.push(text)
      i++
      continue
    }
    fail(site, isOption ? `unknown option ${JSON.stringify(text)}` : `unexpected argument ${JSON.stringify(text)}`)
  }
  if (negate) fail(site, '"!" at end of rule')
  closeGroup()
  const typed = matches.filter((m): m is Match => m !== undefined)
  return { rule: { matches: typed, ...(target ? { target } : {}) }, sawIPv6 }
}
