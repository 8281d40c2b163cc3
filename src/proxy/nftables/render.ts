/**
 * renderNftablesTransaction: NftRuleset -> the `add …` text `nft -f` loads, in knftables'
 * formats. The only place nftables text is produced. Order (docs/nftables.md): table, sets,
 * maps, chains, then each chain's rules, then elements, so every reference is declared first.
 */
import { assertNever } from '../../errors.js'
import { bigIntToIP, parseCidr } from '../../net/index.js'
import type { MarkValue } from '../netfilter/index.js'
import type {
  NftAddrValue,
  NftChain,
  NftElementKeyPart,
  NftElementVerdict,
  NftFamily,
  NftKeyField,
  NftMap,
  NftMatch,
  NftRule,
  NftRuleset,
  NftSet,
  NftStatement,
  NftVerdict,
} from './types.js'
import type { NftObject } from './nft-origin.js'

/** Go's %q for the ASCII texts kube-proxy uses. */
export function quote(text: string): string {
  return JSON.stringify(text)
}

/**
 * `add`: the text kube-proxy writes (knftables' forms); `list`: the same rule as the kernel prints
 * it back in `nft list table` (canonical marks, quoted interface names, merged anonymous sets).
 */
export type NftTextStyle = 'add' | 'list'

function mark(m: MarkValue, style: NftTextStyle): string {
  return `0x${m.value.toString(16).padStart(style === 'list' ? 8 : m.digits, '0')}`
}

function addrValue(v: NftAddrValue, style: NftTextStyle): string {
  switch (v.kind) {
    case 'address':
      return v.address
    case 'set-ref':
      return `@${v.set}`
    case 'anonymous-set':
      if (style === 'list') return listedAnonymousSet(v.items)
      return `{ ${v.items.join(v.compact ? ',' : ' , ')} }`
    default:
      return assertNever(v)
  }
}

/**
 * An anonymous set of addresses and CIDRs as the kernel lists it: an interval set, so items are
 * sorted, overlapping and adjacent ranges merged (printed as a CIDR, or `a-b` when none fits),
 * and a single CIDR printed without braces.
 */
function listedAnonymousSet(items: readonly string[]): string {
  const ranges = items.flatMap((t) => {
    const c = parseCidr(t.includes('/') ? t : `${t}/${t.includes(':') ? 128 : 32}`)
    if (!c) return []
    const bits = c.family === 'IPv4' ? 32 : 128
    const size = 1n << BigInt(bits - c.prefix)
    return [{ family: c.family, from: c.network, to: c.network + size - 1n, bits }]
  }).sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))
  const merged: (typeof ranges)[number][] = []
  for (const r of ranges) {
    const last = merged.at(-1)
    if (last && r.from <= last.to + 1n) merged[merged.length - 1] = { ...last, to: r.to > last.to ? r.to : last.to }
    else merged.push(r)
  }
  const text = merged.map((r) => {
    const size = r.to - r.from + 1n
    const pow = size.toString(2).length - 1
    const isCidr = (size & (size - 1n)) === 0n && r.from % size === 0n
    if (!isCidr) return `${bigIntToIP(r.from, r.family)}-${bigIntToIP(r.to, r.family)}`
    return pow === 0 ? bigIntToIP(r.from, r.family) : `${bigIntToIP(r.from, r.family)}/${r.bits - pow}`
  })
  return text.length === 1 && ranges.length === 1 ? text[0]! : `{ ${text.join(', ')} }`
}

function renderMatch(m: NftMatch, family: NftFamily, style: NftTextStyle): string {
  switch (m.kind) {
    case 'addr':
      return `${family} ${m.side}${m.negated ? ' !=' : ''} ${addrValue(m.value, style)}`
    case 'ct-state':
      return `ct state ${m.states.join(',')}`
    case 'fib-local':
      return `fib ${m.side} type local`
    case 'iifname':
      return `iifname${m.negated ? ' !=' : ''} ${style === 'list' ? quote(m.name) : m.name}`
    case 'l4proto':
      return `meta l4proto ${m.proto}`
    case 'mark-clear':
      return style === 'list' ? `meta mark & ${mark(m.mask, style)} == 0x00000000` : `mark and ${mark(m.mask, style)} == 0`
    case 'tokens':
      return m.tokens.join(' ')
    default:
      return assertNever(m)
  }
}

function renderStatement(s: NftStatement, family: NftFamily, style: NftTextStyle): string {
  switch (s.kind) {
    case 'mark-set':
      return style === 'list' ? `meta mark set meta mark ${s.op === 'or' ? '|' : '^'} ${mark(s.value, style)}` : `mark set mark ${s.op} ${mark(s.value, style)}`
    case 'set-update':
      return `update @${s.set} { ${family} ${s.key} }`
    case 'masquerade':
      return s.fullyRandom ? 'masquerade fully-random' : 'masquerade'
    case 'dnat':
      return `dnat to ${s.to}`
    default:
      return assertNever(s)
  }
}

function keyField(f: NftKeyField, family: NftFamily): string {
  return f === 'daddr' ? `${family} daddr` : f === 'l4proto' ? 'meta l4proto' : 'th dport'
}

function renderVerdict(v: NftVerdict, family: NftFamily, style: NftTextStyle): string {
  switch (v.kind) {
    case 'jump':
    case 'goto':
      return `${v.kind} ${v.chain}`
    case 'accept':
    case 'drop':
    case 'reject':
    case 'return':
      return v.kind
    case 'vmap':
      return `${v.key.map((f) => keyField(f, family)).join(' . ')} vmap @${v.map}`
    case 'numgen-vmap':
      return `numgen random mod ${v.targets.length} vmap { ${v.targets.map((c, i) => `${i} : goto ${c}`).join(style === 'list' ? ', ' : ' , ')} }`
    default:
      return assertNever(v)
  }
}

export function renderRuleBody(r: NftRule, family: NftFamily, style: NftTextStyle = 'add'): string {
  const parts = [
    ...r.matches.map((m) => renderMatch(m, family, style)),
    ...r.statements.map((s) => renderStatement(s, family, style)),
    ...(r.verdict ? [renderVerdict(r.verdict, family, style)] : []),
  ]
  return parts.join(' ') + (r.comment !== undefined ? ` comment ${quote(r.comment)}` : '')
}

/** `add rule PREFIX CHAIN BODY`, one line of a transaction. */
export function renderRuleLine(prefix: string, chain: string, r: NftRule, family: NftFamily): string {
  return `add rule ${prefix} ${chain} ${renderRuleBody(r, family)}\n`
}

export function renderChain(c: NftChain, prefix: string): string {
  const props: string[] = []
  if (c.base) props.push(`type ${c.base.type} hook ${c.base.hook} priority ${c.base.priority} ;`)
  if (c.comment !== undefined) props.push(`comment ${quote(c.comment)} ;`)
  return `add chain ${prefix} ${c.name}${props.length > 0 ? ` { ${props.join(' ')} }` : ''}\n`
}

export function renderSet(s: NftSet, prefix: string): string {
  const props = [`type ${s.type.join(' . ')} ;`]
  if (s.flags && s.flags.length > 0) props.push(`flags ${s.flags.join(',')} ;`)
  if (s.timeoutSeconds !== undefined) props.push(`timeout ${s.timeoutSeconds}s ;`)
  if (s.comment !== undefined) props.push(`comment ${quote(s.comment)} ;`)
  return `add set ${prefix} ${s.name} { ${props.join(' ')} }\n`
}

export function renderMap(m: NftMap, prefix: string): string {
  const props = [`type ${m.keyType.join(' . ')} : verdict ;`]
  if (m.comment !== undefined) props.push(`comment ${quote(m.comment)} ;`)
  return `add map ${prefix} ${m.name} { ${props.join(' ')} }\n`
}

function keyPart(p: NftElementKeyPart): string {
  return p.kind === 'address' ? p.address : p.kind === 'proto' ? p.proto : String(p.port)
}

function elementValue(v: NftElementVerdict): string {
  return v.kind === 'goto' ? `goto ${v.chain}` : 'drop'
}

export function renderElement(container: string, prefix: string, e: { key: readonly NftElementKeyPart[]; comment?: string; value?: NftElementVerdict }): string {
  const comment = e.comment !== undefined ? ` comment ${quote(e.comment)}` : ''
  const value = e.value ? ` : ${elementValue(e.value)}` : ''
  return `add element ${prefix} ${container} { ${e.key.map(keyPart).join(' . ')}${comment}${value} }\n`
}

export interface NftRenderOptions {
  /** A `# …` line printed before a rule or element (`kpe rules --explain`); undefined prints none. */
  readonly annotate?: (o: NftObject) => string | undefined
}

export function renderNftablesTransaction(rs: NftRuleset, opts: NftRenderOptions = {}): string {
  const prefix = `${rs.family} ${rs.table.name}`
  const note = (o: NftObject): string => {
    const text = opts.annotate?.(o)
    return text === undefined ? '' : `# ${text}\n`
  }
  let out = `add table ${prefix}${rs.table.comment !== undefined ? ` { comment ${quote(rs.table.comment)} ; }` : ''}\n`
  const section = (lines: string): void => {
    if (lines !== '') out += `\n${lines}`
  }
  section(rs.sets.map((s) => renderSet(s, prefix)).join(''))
  section(rs.maps.map((m) => renderMap(m, prefix)).join(''))
  section(rs.chains.map((c) => renderChain(c, prefix)).join(''))
  for (const c of rs.chains) section(c.rules.map((r) => note(r) + renderRuleLine(prefix, c.name, r, rs.family)).join(''))
  for (const s of rs.sets) section(s.elements.map((e) => note(e) + renderElement(s.name, prefix, e)).join(''))
  for (const m of rs.maps) section(m.elements.map((e) => note(e) + renderElement(m.name, prefix, e)).join(''))
  return out
}
