/**
 * Renders a RuleTable as the text kube-proxy hands to `iptables-restore --noflush --counters`.
 * The only place restore text is produced. Tables, chains and rules are printed in the order
 * the table holds them: declarations, then rules chain by chain, then `-X` lines.
 */
import { assertNever } from '../../errors.js'
import type { Chain, Match, MarkValue, PortSpec, Rule, RuleTable, Table, Target } from './types.js'

export interface RestoreRenderOptions {
  /** A note printed as a `#` line before each rule it returns text for (`kpe rules --explain`). */
  readonly annotate?: (rule: Rule) => string | undefined
}

export function renderIptablesRestore(table: RuleTable, opts: RestoreRenderOptions = {}): string {
  // One string grown by concatenation: V8 keeps it as a rope and flattens once, which is
  // several times faster than joining millions of small parts (bench/render.ts).
  let out = ''
  for (const t of table.tables) out += renderRestoreTable(t, (c) => renderChainRules(c, opts))
  return out
}

/**
 * One table's restore text: header, chain declarations, every chain's `-A` lines as
 * `chainRules` gives them (rendered now, or rendered earlier and kept), `-X` lines, COMMIT.
 */
export function renderRestoreTable(t: Table, chainRules: (c: Chain, index: number) => string): string {
  let out = `*${t.name}\n`
  for (const c of t.chains) out += chainLine(c)
  for (let i = 0; i < t.chains.length; i++) out += chainRules(t.chains[i]!, i)
  for (const name of t.deletedChains) out += `-X ${name}\n`
  return `${out}COMMIT\n`
}

function renderChainRules(c: Chain, opts: RestoreRenderOptions): string {
  let out = ''
  for (const r of c.rules) {
    const note = opts.annotate?.(r)
    if (note !== undefined) out += `# ${note}\n`
    if (r.counters) out += `[${r.counters.packets}:${r.counters.bytes}] `
    out += renderRuleLine(c.name, r)
  }
  return out
}

/** `-A CHAIN args\n` for a rule without counters. */
export function renderRuleLine(chain: string, r: Rule): string {
  return `-A ${chain}${renderRuleArgs(r)}\n`
}

function chainLine(c: Chain): string {
  const counters = c.counters ? `[${c.counters.packets}:${c.counters.bytes}]` : '[0:0]'
  return `:${c.name} ${c.policy ?? '-'} ${counters}\n`
}

/** The rule's arguments after `-A CHAIN`, each token preceded by one space. */
export function renderRuleArgs(r: Rule): string {
  let s = ''
  for (const m of r.matches) s += renderMatch(m)
  if (r.target) s += renderTargetArgs(r.target)
  return s
}

const not = (negated: true | undefined): string => (negated ? ' !' : '')

export function formatMark(m: MarkValue): string {
  return `0x${m.value.toString(16).padStart(m.digits, '0')}`
}

export function formatPortSpec(p: PortSpec): string {
  return p.to === undefined ? String(p.from) : `${p.from}:${p.to}`
}

/** Comment quoting as kube-proxy writes it: bare unless the text needs quotes. */
export function quoteRestore(text: string): string {
  if (text !== '' && !/[\s"'\\]/.test(text)) return text
  return `"${text.replace(/(["\\])/g, '\\$1')}"`
}

function renderMatch(m: Match): string {
  switch (m.kind) {
    case 'source':
      return `${not(m.negated)} -s ${m.address}`
    case 'destination':
      return `${not(m.negated)} -d ${m.address}`
    case 'protocol':
      return `${not(m.negated)} -p ${m.proto}`
    case 'in-interface':
      return `${not(m.negated)} -i ${m.name}`
    case 'out-interface':
      return `${not(m.negated)} -o ${m.name}`
    case 'l4-module':
      return ` -m ${m.proto}`
    case 'dport':
      return `${not(m.negated)} --dport ${formatPortSpec(m.port)}`
    case 'sport':
      return `${not(m.negated)} --sport ${formatPortSpec(m.port)}`
    case 'multiport':
      return ` -m multiport${not(m.negated)} --${m.side} ${m.ports.map(formatPortSpec).join(',')}`
    case 'comment':
      return ` -m comment --comment ${quoteRestore(m.text)}`
    case 'addrtype':
      return (
        ' -m addrtype' +
        (m.src ? `${not(m.src.negated)} --src-type ${m.src.type}` : '') +
        (m.dst ? `${not(m.dst.negated)} --dst-type ${m.dst.type}` : '')
      )
    case 'statistic-random':
      return ` -m statistic --mode random --probability ${m.probability.toFixed(10)}`
    case 'statistic-nth':
      return ` -m statistic --mode nth --every ${m.every} --packet ${m.packet}`
    case 'recent':
      return (
        ` -m recent --name ${m.name} --${m.op}` +
        (m.seconds !== undefined ? ` --seconds ${m.seconds}` : '') +
        (m.reap ? ' --reap' : '') +
        (m.hitcount !== undefined ? ` --hitcount ${m.hitcount}` : '') +
        (m.mask !== undefined ? ` --mask ${m.mask}` : '') +
        (m.side ? ` --${m.side}` : '')
      )
    case 'mark':
      return ` -m mark${not(m.negated)} --mark ${formatMark(m.value)}${m.mask ? `/${formatMark(m.mask)}` : ''}`
    case 'conntrack':
      return ` -m conntrack${not(m.negated)} --ctstate ${m.states.join(',')}`
    case 'nfacct':
      return ` -m nfacct --nfacct-name ${m.name}`
    case 'physdev':
      return ` -m physdev${m.tokens.map((t) => ` ${t}`).join('')}`
    case 'unknown':
      return ` -m ${m.module}${m.tokens.map((t) => ` ${quoteRestore(t)}`).join('')}`
    default:
      return assertNever(m)
  }
}

export const markTargetFlag = {
  or: '--or-mark',
  xor: '--xor-mark',
  and: '--and-mark',
  set: '--set-mark',
  'set-xmark': '--set-xmark',
} as const

/** ` -j TARGET options` as kube-proxy writes them. */
export function renderTargetArgs(t: Target): string {
  switch (t.kind) {
    case 'jump':
      return ` -j ${t.chain}`
    case 'goto':
      return ` -g ${t.chain}`
    case 'verdict':
      return ` -j ${t.verdict}`
    case 'reject':
      return ` -j REJECT${t.with ? ` --reject-with ${t.with}` : ''}`
    case 'dnat':
      return ` -j DNAT --to-destination ${t.to}`
    case 'snat':
      return ` -j SNAT --to-source ${t.to}${t.randomFully ? ' --random-fully' : ''}`
    case 'masquerade':
      return ` -j MASQUERADE${t.toPorts ? ` --to-ports ${t.toPorts}` : ''}${t.randomFully ? ' --random-fully' : ''}`
    case 'mark':
      return ` -j MARK ${markTargetFlag[t.op]} ${formatMark(t.value)}${t.mask ? `/${formatMark(t.mask)}` : ''}`
    case 'unknown':
      return ` -j ${t.name}${t.tokens.map((x) => ` ${quoteRestore(x)}`).join('')}`
    default:
      return assertNever(t)
  }
}
