/**
 * One rule's body -> typed expressions, consumed left to right: selectors (payload, meta, ct,
 * fib, numgen; concatenated with `.`, masked with `and`/`&`) followed by an operator and a
 * value, a `vmap`, or `set`; then statements (counter, mark, update, nat, log) and verdicts.
 * Accepts both kpe's/knftables' spelling and what `nft list` prints.
 */
import type { NftElementDef, NftExpr, NftKey, NftOperand, NftRuleDef, NftSelector, NftVerdictDef } from './types.js'
import type { TokenCursor } from './token-cursor.js'
import type { NftToken } from './tokenize-nft.js'
import { parseAddressTest, parsePacketAddress } from '../interpreter/address.js'

const payloadFields: Record<string, readonly string[]> = {
  ip: ['saddr', 'daddr'],
  ip6: ['saddr', 'daddr'],
  tcp: ['sport', 'dport'],
  udp: ['sport', 'dport'],
  sctp: ['sport', 'dport'],
  th: ['sport', 'dport'],
}
const metaKeys = ['l4proto', 'mark', 'iifname', 'oifname', 'nfproto'] as const
/** Meta keys nft accepts without the `meta` keyword. */
const bareMetaKeys = new Set(['mark', 'iifname', 'oifname'])

/** Parses a selector at the cursor, or returns undefined (without consuming) if none starts here. */
function parseSelector(c: TokenCursor): NftSelector | undefined {
  const w = c.peekWord()
  if (w === undefined) return undefined
  if (w in payloadFields) {
    const field = c.peekWord(1)
    if (field === undefined || !payloadFields[w]!.includes(field)) return undefined
    c.take('selector')
    c.take('field')
    return { kind: 'payload', proto: w as 'ip', field: field as 'saddr' }
  }
  if (w === 'meta') {
    c.take('meta')
    const key = c.takeWord('a meta key')
    if (!(metaKeys as readonly string[]).includes(key)) throw c.error(`unsupported meta key "${key}"`, c.previous())
    return { kind: 'meta', key: key as (typeof metaKeys)[number] }
  }
  if (bareMetaKeys.has(w) && c.peekWord(1) !== undefined) {
    c.take('meta key')
    return { kind: 'meta', key: w as 'mark' }
  }
  if (w === 'ct') {
    c.take('ct')
    const key = c.takeWord('a ct key')
    if (key === 'state' || key === 'status' || key === 'mark') return { kind: 'ct', key }
    if (key === 'original' || key === 'reply') {
      let family: 'ip' | 'ip6' | undefined
      if (c.peekWord() === 'ip' || c.peekWord() === 'ip6') family = c.takeWord('family') as 'ip'
      const k = c.takeWord('a ct direction key')
      if (k !== 'saddr' && k !== 'daddr' && k !== 'proto-src' && k !== 'proto-dst') throw c.error(`unsupported ct ${key} key "${k}"`)
      return { kind: 'ct-dir', dir: key, key: k, ...(family ? { family } : {}) }
    }
    throw c.error(`unsupported ct key "${key}"`)
  }
  if (w === 'fib') {
    c.take('fib')
    const side = c.takeWord('saddr or daddr')
    if (side !== 'saddr' && side !== 'daddr') throw c.error('expected "saddr" or "daddr" after fib')
    c.expect('type')
    return { kind: 'fib', side }
  }
  if (w === 'numgen') {
    c.take('numgen')
    const mode = c.takeWord('random or inc')
    if (mode !== 'random' && mode !== 'inc') throw c.error('expected "random" or "inc" after numgen')
    c.expect('mod')
    const mod = c.takeInt('the numgen modulus')
    if (mod < 1) throw c.error('numgen modulus must be at least 1')
    return { kind: 'numgen', mode, mod }
  }
  return undefined
}

function parseKey(c: TokenCursor, first: NftSelector): NftKey {
  const parts = [first]
  while (c.peekWord() === '.') {
    c.take('.')
    const s = parseSelector(c)
    if (!s) throw c.error('expected a selector after "."')
    parts.push(s)
  }
  if (c.peekWord() === 'and' || c.peekWord() === '&') {
    c.take('and')
    return { parts, mask: c.takeWord('a mask') }
  }
  return { parts }
}

export function parseVerdict(c: TokenCursor): NftVerdictDef | undefined {
  const w = c.peekWord()
  switch (w) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      c.take(w)
      return { kind: w }
    case 'reject':
      c.take(w)
      if (c.accept('with')) {
        const parts = [c.takeWord('a reject type')]
        while (!c.atStatementEnd() && c.peekWord() !== 'comment') parts.push(c.takeWord('a reject type'))
        return { kind: 'reject', with: parts.join(' ') }
      }
      return { kind: 'reject' }
    case 'jump':
    case 'goto':
      c.take(w)
      return { kind: w, chain: c.takeWord('a chain name') }
    default:
      return undefined
  }
}

/** `{ a , b }` or `{ a,b }` items (newlines inside are whitespace). The `{` is next. */
function parseBraced<T>(c: TokenCursor, item: () => T): { items: T[]; compact: boolean } {
  c.expect('{')
  const items: T[] = []
  let compact = false
  c.skipNewlines()
  while (!c.accept('}')) {
    items.push(item())
    c.skipNewlines()
    const comma = c.peek()
    if (c.accept(',')) {
      if (comma?.glued && c.peek()?.glued) compact = true
      c.skipNewlines()
    } else if (c.peekWord() !== '}') throw c.error('expected "," or "}"')
  }
  return { items, compact }
}

/** A (possibly concatenated) element key: `a . b . c`. */
function parseElementKey(c: TokenCursor): string[] {
  const key = [c.takeWord('an element key')]
  while (c.peekWord() === '.') {
    c.take('.')
    key.push(c.takeWord('an element key part'))
  }
  return key
}

/** An element of a set or map: key, options (`timeout`, `expires`, `comment`), `: verdict`. */
export function parseElement(c: TokenCursor, withValue: boolean): NftElementDef {
  const key = parseElementKey(c)
  let comment: string | undefined
  let timeoutMs: number | undefined
  let expiresMs: number | undefined
  for (;;) {
    if (c.accept('comment')) comment = c.takeString('a comment')
    else if (c.accept('timeout')) timeoutMs = parseDuration(c, c.takeWord('a timeout'))
    else if (c.accept('expires')) expiresMs = parseDuration(c, c.takeWord('an expiry'))
    else break
  }
  let verdict: NftVerdictDef | undefined
  if (withValue) {
    c.expect(':')
    verdict = parseVerdict(c)
    if (!verdict) throw c.error('expected a verdict')
  }
  return {
    key,
    ...(verdict ? { verdict } : {}),
    ...(comment !== undefined ? { comment } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(expiresMs !== undefined ? { expiresMs } : {}),
  }
}

export function parseElements(c: TokenCursor, withValue: boolean): NftElementDef[] {
  return parseBraced(c, () => parseElement(c, withValue)).items
}

const durationUnits: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 }

/** `3h`, `10800s`, `2h59m58s120ms`, or plain seconds. */
export function parseDuration(c: TokenCursor, text: string): number {
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const re = /(\d+)(ms|d|h|m|s)/gy
  let total = 0
  let end = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * durationUnits[m[2]!]!
    end = re.lastIndex
  }
  if (end !== text.length || text === '') throw c.error(`bad duration "${text}"`)
  return total
}

function parseOperand(c: TokenCursor): NftOperand {
  const t = c.peek()
  if (t === undefined || c.atStatementEnd()) throw c.error('expected a value')
  if (!t.quoted && t.text === '{') {
    const { items, compact } = parseBraced(c, () => c.takeWord('a set item'))
    return { kind: 'anonymous-set', items, ...(compact ? { compact: true as const } : {}) }
  }
  if (!t.quoted && t.text.startsWith('@')) {
    c.take('a set')
    return { kind: 'set-ref', set: t.text.slice(1) }
  }
  const values = [t.quoted ? c.takeString('a value') : c.takeWord('a value')]
  while (c.peek()?.text === ',' && c.peek()?.glued) {
    c.take(',')
    values.push(c.takeWord('a value'))
  }
  return { kind: 'literal', values }
}

/** After `mark set`: `mark or V`, `meta mark | V`, or a value. */
function parseMarkSet(c: TokenCursor): NftExpr {
  const w = c.peekWord()
  if (w === 'mark' || w === 'meta') {
    if (w === 'meta') c.expect('meta')
    c.expect('mark')
    const opWord = c.takeWord('or, xor or and')
    const op = ({ or: 'or', '|': 'or', xor: 'xor', '^': 'xor', and: 'and', '&': 'and' } as const)[opWord as 'or']
    if (op === undefined) throw c.error('expected "or", "xor" or "and"', c.previous())
    return { kind: 'mark-set', op, value: c.takeWord('a mark value') }
  }
  return { kind: 'mark-set', op: 'value', value: c.takeWord('a mark value') }
}

function parseStatement(c: TokenCursor): NftExpr | undefined {
  const w = c.peekWord()
  switch (w) {
    case 'counter': {
      c.take(w)
      if (c.accept('packets')) {
        const packets = c.takeInt('a packet count')
        c.expect('bytes')
        return { kind: 'counter', packets, bytes: c.takeInt('a byte count') }
      }
      return { kind: 'counter' }
    }
    case 'update':
    case 'add': {
      c.take(w)
      const setTok = c.takeWord('a set (@name)')
      if (!setTok.startsWith('@')) throw c.error('expected a set (@name)', c.previous())
      c.expect('{')
      const first = parseSelector(c)
      if (!first) throw c.error('expected a selector')
      const key = parseKey(c, first)
      c.expect('}')
      return { kind: 'set-update', op: w, set: setTok.slice(1), key }
    }
    case 'masquerade': {
      c.take(w)
      const flags: string[] = []
      while (c.peekWord() === 'fully-random' || c.peekWord() === 'random' || c.peekWord() === 'persistent') flags.push(c.takeWord('a flag'))
      return { kind: 'masquerade', flags }
    }
    case 'dnat':
    case 'snat': {
      c.take(w)
      let family: 'ip' | 'ip6' | undefined
      if (c.peekWord() === 'ip' || c.peekWord() === 'ip6') family = c.takeWord('family') as 'ip'
      c.expect('to')
      return { kind: w, ...(family ? { family } : {}), to: c.takeWord('a NAT target') }
    }
    case 'log': {
      c.take(w)
      if (c.accept('prefix')) return { kind: 'log', prefix: c.takeString('a log prefix') }
      return { kind: 'log' }
    }
    default:
      return undefined
  }
}

/**
 * What nft itself refuses when it reads a rule: an address selector compared with something that
 * is not an address, CIDR or range, or a port with something that is not a number.
 */
function checkOperand(c: TokenCursor, key: NftKey, right: NftOperand, at: NftToken | undefined): void {
  if (key.parts.length !== 1 || right.kind === 'set-ref') return
  const s = key.parts[0]!
  const items = right.kind === 'anonymous-set' ? right.items : right.values
  const addr = (s.kind === 'payload' && (s.field === 'saddr' || s.field === 'daddr')) || (s.kind === 'ct-dir' && (s.key === 'saddr' || s.key === 'daddr'))
  const port = s.kind === 'payload' && (s.field === 'dport' || s.field === 'sport')
  for (const item of items) {
    if (addr && !isAddressText(item)) throw c.error(`"${item}" is not an IP address, CIDR or range`, at)
    if (port && !/^\d{1,5}(-\d{1,5})?$/.test(item)) throw c.error(`"${item}" is not a port or port range`, at)
  }
}

function isAddressText(t: string): boolean {
  const dash = t.indexOf('-')
  if (dash > 0) return parsePacketAddress(t.slice(0, dash)) !== undefined && parsePacketAddress(t.slice(dash + 1)) !== undefined
  return parseAddressTest(t) !== undefined
}

/** Parses a rule body up to the end of the statement (newline, `;`, `}` or end of text). */
export function parseRuleBody(c: TokenCursor): NftRuleDef {
  const exprs: NftExpr[] = []
  let comment: string | undefined
  while (!c.atStatementEnd()) {
    if (c.peekWord() === 'comment') {
      c.take('comment')
      comment = c.takeString('a comment')
      continue
    }
    const sel = parseSelector(c)
    if (sel) {
      const key = parseKey(c, sel)
      if (c.accept('vmap')) {
        if (c.peekWord()?.startsWith('@')) exprs.push({ kind: 'vmap', key, map: { kind: 'set-ref', set: c.takeWord('a map').slice(1) } })
        else exprs.push({ kind: 'vmap', key, map: { kind: 'inline', elements: parseBraced(c, () => parseElement(c, true)).items } })
        continue
      }
      if (c.peekWord() === 'set' && key.parts.length === 1 && key.parts[0]!.kind === 'meta' && key.parts[0]!.key === 'mark') {
        c.take('set')
        exprs.push(parseMarkSet(c))
        continue
      }
      let op: '==' | '!=' = '=='
      let explicitOp = false
      if (c.peekWord() === '!=' || c.peekWord() === '==' || c.peekWord() === 'eq' || c.peekWord() === 'ne') {
        const o = c.takeWord('an operator')
        op = o === '!=' || o === 'ne' ? '!=' : '=='
        explicitOp = op === '=='
      }
      const at = c.peek()
      const right = parseOperand(c)
      checkOperand(c, key, right, at)
      exprs.push({ kind: 'match', key, op, ...(explicitOp ? { explicitOp: true as const } : {}), right })
      continue
    }
    const st = parseStatement(c)
    if (st) {
      exprs.push(st)
      continue
    }
    const v = parseVerdict(c)
    if (v) {
      exprs.push({ kind: 'verdict', verdict: v })
      continue
    }
    throw c.error('unexpected token in rule')
  }
  return { exprs, ...(comment !== undefined ? { comment } : {}) }
}
