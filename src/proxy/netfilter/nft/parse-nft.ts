/**
 * nft text -> typed commands: the transaction form `nft -f` reads (`add table …`, `add rule …`,
 * `add element …`, `flush …`, `delete …`; kpe's and knftables' output) and the listing form
 * `nft list ruleset` / `nft list table` prints (`table ip t { set … { … } chain … { … } }`),
 * whose blocks become the `add` commands that would create them. Errors name line and token.
 */
import type { NftToken } from './tokenize-nft.js'
import { tokenizeNft } from './tokenize-nft.js'
import { TokenCursor } from './token-cursor.js'
import { parseDuration, parseElements, parseRuleBody } from './parse-rule.js'
import type { NftBaseChainDef, NftChainDef, NftCommand, NftFamilyName, NftHookName, NftRuleDef, NftSetDef } from './types.js'

const families = new Set<string>(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'])
const hooks = new Set<string>(['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress'])
/** Standard priority names of the ip/ip6/inet families (nft(8), "CHAINS"). */
const priorityNames: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 }

export function parseNft(text: string, opts: { readonly source?: string } = {}): NftCommand[] {
  const source = opts.source ?? 'nft input'
  const c = new TokenCursor(tokenizeNft(text, source), source)
  const out: NftCommand[] = []
  for (;;) {
    c.skipSeparators()
    if (c.atEnd) return out
    const line = c.line()
    const verb = c.takeWord('a command')
    if (verb === 'table') {
      parseTableBlock(c, line, out)
      continue
    }
    parseCommand(c, verb, line, out)
    if (!c.atStatementEnd()) throw c.error('expected end of command')
  }
}

function family(c: TokenCursor): NftFamilyName {
  const w = c.peekWord()
  if (w !== undefined && families.has(w)) {
    c.take('family')
    return w as NftFamilyName
  }
  return 'ip'
}

function parseCommand(c: TokenCursor, verb: string, line: number, out: NftCommand[]): void {
  const op = verb === 'create' ? 'add' : verb === 'destroy' ? 'delete' : verb
  const what = c.takeWord('table, chain, rule, set, map, element or ruleset')
  if (what === 'ruleset') {
    if (op !== 'flush') throw c.error(`"${verb} ruleset" is not a transaction command`, c.previous())
    out.push({ op: 'flush', what: 'ruleset', line })
    return
  }
  if (!['add', 'delete', 'flush', 'insert', 'replace'].includes(op)) throw c.error(`unknown command "${verb}"`, c.previous())
  const fam = family(c)
  const table = c.takeWord('a table name')
  switch (what) {
    case 'table': {
      if (op !== 'add' && op !== 'delete' && op !== 'flush') throw c.error(`cannot ${verb} a table`)
      let comment: string | undefined
      if (c.peekWord() === '{') {
        c.take('{')
        for (;;) {
          c.skipSeparators()
          if (c.accept('}')) break
          comment = tableProperty(c) ?? comment
        }
      }
      out.push({ op, what: 'table', line, family: fam, table, ...(comment !== undefined ? { comment } : {}) })
      return
    }
    case 'chain': {
      if (op !== 'add' && op !== 'delete' && op !== 'flush') throw c.error(`cannot ${verb} a chain`)
      const name = c.takeWord('a chain name')
      let chain: NftChainDef = { name, rules: [] }
      if (c.peekWord() === '{') {
        c.take('{')
        chain = parseChainBody(c, name, false)
      }
      out.push({ op, what: 'chain', line, family: fam, table, chain })
      return
    }
    case 'set':
    case 'map': {
      if (op !== 'add' && op !== 'delete' && op !== 'flush') throw c.error(`cannot ${verb} a ${what}`)
      const name = c.takeWord(`a ${what} name`)
      let set: NftSetDef = { kind: what, name, keyType: [], flags: [], elements: [] }
      if (c.peekWord() === '{') {
        c.take('{')
        set = parseSetBody(c, what, name)
      } else if (op === 'add') throw c.error(`expected "{" with the ${what}'s type`)
      out.push({ op, what: 'set', line, family: fam, table, set })
      return
    }
    case 'rule': {
      if (op === 'flush') throw c.error('cannot flush a rule')
      const chain = c.takeWord('a chain name')
      let handle: number | undefined
      if (c.accept('handle') || c.accept('position') || c.accept('index')) handle = c.takeInt('a rule handle')
      if (op === 'delete') {
        if (handle === undefined) throw c.error('expected "handle N"')
        out.push({ op: 'delete', what: 'rule', line, family: fam, table, chain, rule: { exprs: [] }, handle })
        return
      }
      const rule = parseRuleBody(c)
      out.push({ op: op === 'replace' ? 'add' : (op as 'add' | 'insert'), what: 'rule', line, family: fam, table, chain, rule, ...(handle !== undefined ? { handle } : {}) })
      return
    }
    case 'element': {
      if (op !== 'add' && op !== 'delete') throw c.error(`cannot ${verb} an element`)
      const set = c.takeWord('a set or map name')
      // Whether elements carry `: verdict` is known from the set; look ahead for a ':' word.
      const elements = parseElements(c, hasValueAhead(c))
      out.push({ op, what: 'element', line, family: fam, table, set, elements })
      return
    }
    default:
      throw c.error('expected table, chain, rule, set, map, element or ruleset', c.previous())
  }
}

/** True if the braced element list at the cursor has `key : value` elements. */
function hasValueAhead(c: TokenCursor): boolean {
  for (let i = 0, depth = 0; ; i++) {
    const t: NftToken | undefined = c.peek(i)
    if (t === undefined) return false
    if (t.quoted) continue
    if (t.text === '{') depth++
    if (t.text === '}' && --depth === 0) return false
    if (t.text === ':') return true
  }
}

function tableProperty(c: TokenCursor): string | undefined {
  if (c.accept('comment')) return c.takeString('a comment')
  if (c.accept('flags')) {
    c.takeWord('table flags')
    return undefined
  }
  throw c.error('unexpected token in table')
}

function parsePriority(c: TokenCursor): number {
  const w = c.takeWord('a priority')
  if (/^-?\d+$/.test(w)) return Number(w)
  const m = /^([a-z]+)(?:([+-])(\d+))?$/.exec(w)
  if (!m || priorityNames[m[1]!] === undefined) throw c.error('expected a priority (a number or raw, mangle, dstnat, filter, security, srcnat)', c.previous())
  let p = priorityNames[m[1]!]!
  if (m[2] !== undefined) return m[2] === '-' ? p - Number(m[3]) : p + Number(m[3])
  if (c.peekWord() === '-' || c.peekWord() === '+') {
    const sign = c.takeWord('+ or -')
    const n = c.takeInt('a priority offset')
    p = sign === '-' ? p - n : p + n
  }
  return p
}

/**
 * The inside of `chain NAME { … }` after the `{`: base-chain properties, a comment and (in
 * listing form, `rules` true) one rule per line.
 */
function parseChainBody(c: TokenCursor, name: string, rules: boolean): NftChainDef {
  let base: NftBaseChainDef | undefined
  let comment: string | undefined
  const body: NftRuleDef[] = []
  for (;;) {
    c.skipSeparators()
    if (c.accept('}')) break
    if (c.atEnd) throw c.error(`expected "}" closing chain ${name}`)
    const w = c.peekWord()
    if (w === 'type') {
      c.take('type')
      const type = c.takeWord('a chain type')
      if (type !== 'filter' && type !== 'nat' && type !== 'route') throw c.error('expected chain type filter, nat or route', c.previous())
      c.expect('hook')
      const hook = c.takeWord('a hook')
      if (!hooks.has(hook)) throw c.error('unknown hook', c.previous())
      if (c.accept('device')) c.takeWord('a device')
      c.expect('priority')
      base = { type, hook: hook as NftHookName, priority: parsePriority(c), ...(base?.policy ? { policy: base.policy } : {}) }
    } else if (w === 'policy') {
      c.take('policy')
      const policy = c.takeWord('accept or drop')
      if (policy !== 'accept' && policy !== 'drop') throw c.error('expected policy accept or drop', c.previous())
      if (!base) throw c.error('a policy needs a base chain (type … hook … priority …) first', c.previous())
      base = { ...base, policy }
    } else if (w === 'comment' && c.peek(1)?.quoted && (c.peek(2) === undefined || c.peek(2)!.newline || c.peek(2)!.text === ';' || c.peek(2)!.text === '}')) {
      c.take('comment')
      comment = c.takeString('a comment')
    } else if (rules) {
      body.push(parseRuleBody(c))
    } else {
      throw c.error('unexpected token in chain properties')
    }
  }
  return { name, ...(base ? { base } : {}), ...(comment !== undefined ? { comment } : {}), rules: body }
}

function parseSetBody(c: TokenCursor, kind: 'set' | 'map', name: string): NftSetDef {
  let keyType: string[] = []
  let flags: string[] = []
  let timeoutMs: number | undefined
  let comment: string | undefined
  let elements: NftSetDef['elements'] = []
  for (;;) {
    c.skipSeparators()
    if (c.accept('}')) break
    const w = c.takeWord(`a ${kind} property`)
    switch (w) {
      case 'type':
      case 'typeof': {
        keyType = [c.takeWord('a data type')]
        while (c.accept('.')) keyType.push(c.takeWord('a data type'))
        if (kind === 'map') {
          c.expect(':')
          const value = c.takeWord('the map value type')
          if (value !== 'verdict') throw c.error('only verdict maps are supported', c.previous())
        }
        break
      }
      case 'flags':
        flags = [c.takeWord('a flag')]
        while (c.peek()?.text === ',' && !c.peek()?.quoted) {
          c.take(',')
          flags.push(c.takeWord('a flag'))
        }
        break
      case 'timeout':
        timeoutMs = parseDuration(c, c.takeWord('a timeout'))
        break
      case 'gc-interval':
        c.takeWord('a gc interval')
        break
      case 'size':
        c.takeInt('a size')
        break
      case 'policy':
        c.takeWord('a set policy')
        break
      case 'auto-merge':
        break
      case 'comment':
        comment = c.takeString('a comment')
        break
      case 'elements':
        c.expect('=')
        elements = parseElements(c, kind === 'map')
        break
      default:
        throw c.error(`unknown ${kind} property`, c.previous())
    }
  }
  if (keyType.length === 0) throw c.error(`${kind} ${name} has no type`, c.previous())
  return { kind, name, keyType, flags, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(comment !== undefined ? { comment } : {}), elements }
}

/** `table FAMILY NAME { … }`: the listing form, or a block in an `nft -f` file. */
function parseTableBlock(c: TokenCursor, line: number, out: NftCommand[]): void {
  const fam = family(c)
  const table = c.takeWord('a table name')
  c.expect('{')
  const head = out.length
  let comment: string | undefined
  const later: NftCommand[] = []
  for (;;) {
    c.skipSeparators()
    if (c.accept('}')) break
    const at = c.line()
    const w = c.peekWord()
    if (w === 'set' || w === 'map') {
      c.take(w)
      const name = c.takeWord(`a ${w} name`)
      c.expect('{')
      const set = parseSetBody(c, w, name)
      out.push({ op: 'add', what: 'set', line: at, family: fam, table, set: { ...set, elements: [] } })
      if (set.elements.length > 0) later.push({ op: 'add', what: 'element', line: at, family: fam, table, set: name, elements: set.elements })
    } else if (w === 'chain') {
      c.take('chain')
      const name = c.takeWord('a chain name')
      c.expect('{')
      const chain = parseChainBody(c, name, true)
      out.push({ op: 'add', what: 'chain', line: at, family: fam, table, chain: { ...chain, rules: [] } })
      for (const rule of chain.rules) later.push({ op: 'add', what: 'rule', line: at, family: fam, table, chain: name, rule })
    } else {
      comment = tableProperty(c) ?? comment
    }
  }
  // Declarations first, then elements and rules: a listing prints chains in any order and a
  // rule may jump to a chain printed after it.
  out.splice(head, 0, { op: 'add', what: 'table', line, family: fam, table, ...(comment !== undefined ? { comment } : {}) })
  out.push(...later)
}
