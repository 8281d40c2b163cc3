/**
 * NftDocument -> `nft -f` transaction text, in knftables' spelling (`mark and 0x4000 == 0`,
 * `mark set mark or 0x4000`, numeric priorities, `{ a , b }`): per table the table, sets, maps,
 * chains, rules and elements, so every reference is declared before it is used.
 */
import { assertNever } from '../../../errors.js'
import type { NftChainDef, NftDocument, NftElementDef, NftExpr, NftKey, NftOperand, NftRuleDef, NftSelector, NftSetDef, NftTableDef, NftVerdictDef } from './types.js'

const quote = (s: string): string => JSON.stringify(s)

function selector(s: NftSelector): string {
  switch (s.kind) {
    case 'payload':
      return `${s.proto} ${s.field}`
    case 'meta':
      return s.key === 'l4proto' || s.key === 'nfproto' ? `meta ${s.key}` : s.key
    case 'ct':
      return `ct ${s.key}`
    case 'ct-dir':
      return `ct ${s.dir}${s.family ? ` ${s.family}` : ''} ${s.key}`
    case 'fib':
      return `fib ${s.side} type`
    case 'numgen':
      return `numgen ${s.mode} mod ${s.mod}`
    default:
      return assertNever(s)
  }
}

function key(k: NftKey): string {
  return k.parts.map(selector).join(' . ') + (k.mask !== undefined ? ` and ${k.mask}` : '')
}

function operand(o: NftOperand): string {
  switch (o.kind) {
    case 'literal':
      return o.values.join(',')
    case 'set-ref':
      return `@${o.set}`
    case 'anonymous-set':
      return `{ ${o.items.join(o.compact ? ',' : ' , ')} }`
    default:
      return assertNever(o)
  }
}

export function renderNftVerdict(v: NftVerdictDef): string {
  switch (v.kind) {
    case 'jump':
    case 'goto':
      return `${v.kind} ${v.chain}`
    case 'reject':
      return v.with !== undefined ? `reject with ${v.with}` : 'reject'
    default:
      return v.kind
  }
}

function element(e: NftElementDef): string {
  let s = e.key.join(' . ')
  if (e.timeoutMs !== undefined) s += ` timeout ${e.timeoutMs}ms`
  if (e.expiresMs !== undefined) s += ` expires ${e.expiresMs}ms`
  if (e.comment !== undefined) s += ` comment ${quote(e.comment)}`
  if (e.verdict) s += ` : ${renderNftVerdict(e.verdict)}`
  return s
}

function expr(e: NftExpr): string {
  switch (e.kind) {
    case 'match':
      return `${key(e.key)}${e.op === '!=' ? ' !=' : e.explicitOp ? ' ==' : ''} ${operand(e.right)}`
    case 'vmap':
      return `${key(e.key)} vmap ${e.map.kind === 'set-ref' ? `@${e.map.set}` : `{ ${e.map.elements.map(element).join(' , ')} }`}`
    case 'counter':
      return e.packets !== undefined ? `counter packets ${e.packets} bytes ${e.bytes ?? 0}` : 'counter'
    case 'mark-set':
      return e.op === 'value' ? `mark set ${e.value}` : `mark set mark ${e.op} ${e.value}`
    case 'set-update':
      return `${e.op} @${e.set} { ${key(e.key)} }`
    case 'masquerade':
      return ['masquerade', ...e.flags].join(' ')
    case 'dnat':
    case 'snat':
      return `${e.kind}${e.family ? ` ${e.family}` : ''} to ${e.to}`
    case 'log':
      return e.prefix !== undefined ? `log prefix ${quote(e.prefix)}` : 'log'
    case 'verdict':
      return renderNftVerdict(e.verdict)
    default:
      return assertNever(e)
  }
}

export function renderNftRule(r: NftRuleDef): string {
  return r.exprs.map(expr).join(' ') + (r.comment !== undefined ? `${r.exprs.length > 0 ? ' ' : ''}comment ${quote(r.comment)}` : '')
}

function chainLine(c: NftChainDef, prefix: string): string {
  const props: string[] = []
  if (c.base) props.push(`type ${c.base.type} hook ${c.base.hook} priority ${c.base.priority} ;${c.base.policy ? ` policy ${c.base.policy} ;` : ''}`)
  if (c.comment !== undefined) props.push(`comment ${quote(c.comment)} ;`)
  return `add chain ${prefix} ${c.name}${props.length > 0 ? ` { ${props.join(' ')} }` : ''}\n`
}

function timeout(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

function setLine(s: NftSetDef, prefix: string): string {
  const props = [`type ${s.keyType.join(' . ')}${s.kind === 'map' ? ' : verdict' : ''} ;`]
  if (s.flags.length > 0) props.push(`flags ${s.flags.join(',')} ;`)
  if (s.timeoutMs !== undefined) props.push(`timeout ${timeout(s.timeoutMs)} ;`)
  if (s.comment !== undefined) props.push(`comment ${quote(s.comment)} ;`)
  return `add ${s.kind} ${prefix} ${s.name} { ${props.join(' ')} }\n`
}

function renderTable(t: NftTableDef): string {
  const prefix = `${t.family} ${t.name}`
  let out = `add table ${prefix}${t.comment !== undefined ? ` { comment ${quote(t.comment)} ; }` : ''}\n`
  const section = (lines: string): void => {
    if (lines !== '') out += `\n${lines}`
  }
  const sets = t.sets.filter((s) => s.kind === 'set')
  const maps = t.sets.filter((s) => s.kind === 'map')
  section(sets.map((s) => setLine(s, prefix)).join(''))
  section(maps.map((s) => setLine(s, prefix)).join(''))
  section(t.chains.map((c) => chainLine(c, prefix)).join(''))
  for (const c of t.chains) section(c.rules.map((r) => `add rule ${prefix} ${c.name} ${renderNftRule(r)}\n`).join(''))
  for (const s of [...sets, ...maps]) section(s.elements.map((e) => `add element ${prefix} ${s.name} { ${element(e)} }\n`).join(''))
  return out
}

export function renderNftDocument(doc: NftDocument): string {
  return doc.tables.map(renderTable).join('\n')
}
