/**
 * renderNftablesTransaction: NftRuleset -> the `add …` text `nft -f` loads, in knftables'
 * formats. The only place nftables text is produced. Order (docs/nftables.md): table, sets,
 * maps, chains, then each chain's rules, then elements, so every reference is declared first.
 */
import { assertNever } from '../../errors.js'
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

/** Go's %q for the ASCII texts kube-proxy uses. */
function quote(text: string): string {
  return JSON.stringify(text)
}

function mark(m: MarkValue): string {
  return `0x${m.value.toString(16).padStart(m.digits, '0')}`
}

function addrValue(v: NftAddrValue): string {
  switch (v.kind) {
    case 'address':
      return v.address
    case 'set-ref':
      return `@${v.set}`
    case 'anonymous-set':
      return `{ ${v.items.join(v.compact ? ',' : ' , ')} }`
    default:
      return assertNever(v)
  }
}

function renderMatch(m: NftMatch, family: NftFamily): string {
  switch (m.kind) {
    case 'addr':
      return `${family} ${m.side}${m.negated ? ' !=' : ''} ${addrValue(m.value)}`
    case 'ct-state':
      return `ct state ${m.states.join(',')}`
    case 'fib-local':
      return `fib ${m.side} type local`
    case 'iifname':
      return `iifname${m.negated ? ' !=' : ''} ${m.name}`
    case 'l4proto':
      return `meta l4proto ${m.proto}`
    case 'mark-clear':
      return `mark and ${mark(m.mask)} == 0`
    case 'tokens':
      return m.tokens.join(' ')
    default:
      return assertNever(m)
  }
}

function renderStatement(s: NftStatement, family: NftFamily): string {
  switch (s.kind) {
    case 'mark-set':
      return `mark set mark ${s.op} ${mark(s.value)}`
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

function renderVerdict(v: NftVerdict, family: NftFamily): string {
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
      return `numgen random mod ${v.targets.length} vmap { ${v.targets.map((c, i) => `${i} : goto ${c}`).join(' , ')} }`
    default:
      return assertNever(v)
  }
}

export function renderRuleBody(r: NftRule, family: NftFamily): string {
  const parts = [
    ...r.matches.map((m) => renderMatch(m, family)),
    ...r.statements.map((s) => renderStatement(s, family)),
    ...(r.verdict ? [renderVerdict(r.verdict, family)] : []),
  ]
  return parts.join(' ') + (r.comment !== undefined ? ` comment ${quote(r.comment)}` : '')
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

export function renderNftablesTransaction(rs: NftRuleset): string {
  const prefix = `${rs.family} ${rs.table.name}`
  let out = `add table ${prefix}${rs.table.comment !== undefined ? ` { comment ${quote(rs.table.comment)} ; }` : ''}\n`
  const section = (lines: string): void => {
    if (lines !== '') out += `\n${lines}`
  }
  section(rs.sets.map((s) => renderSet(s, prefix)).join(''))
  section(rs.maps.map((m) => renderMap(m, prefix)).join(''))
  section(rs.chains.map((c) => renderChain(c, prefix)).join(''))
  for (const c of rs.chains) section(c.rules.map((r) => `add rule ${prefix} ${c.name} ${renderRuleBody(r, rs.family)}\n`).join(''))
  for (const s of rs.sets) section(s.elements.map((e) => renderElement(s.name, prefix, e)).join(''))
  for (const m of rs.maps) section(m.elements.map((e) => renderElement(m.name, prefix, e)).join(''))
  return out
}
