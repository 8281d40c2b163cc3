/**
 * upstream's test normalizer for restore text (sortIPTablesRules in proxier_test.go), over text:
 * it exists to compare kpe's output with upstream's vectors and with dumps upstream produced,
 * whose service order is Go map order. Documented in ../shared/kube-proxy-golden/README.md.
 * It stays on lines, not a parsed RuleTable: upstream's normalizer vectors (comment-styles,
 * junk-lines-preserved) hold rule text that is not valid iptables and must come out byte for
 * byte, which a typed parse cannot keep. A rule's comment is read with the restore tokenizer.
 */
import { ParseError } from '../../errors.js'
import { tokenizeRestoreLine } from '../netfilter/index.js'
import { compareChainNames } from './chains.js'

interface SortRule {
  readonly line: string
  /** The service name the rule's comment starts with (up to the first space or colon), upstream's sort key. */
  readonly svc: string | undefined
}

interface SortTable {
  readonly name: string
  readonly chains: { line: string; name: string }[]
  readonly rules: Map<string, SortRule[]>
  readonly deleted: Set<string>
}

function serviceNameOfRule(line: string, lineNo: number): string | undefined {
  const tokens = tokenizeRestoreLine(line, lineNo)
  const at = tokens.findIndex((t) => t.text === '--comment' && !t.quoted)
  const text = at >= 0 ? tokens[at + 1]?.text : undefined
  return text?.split(/[ :]/)[0]
}

export function sortIptablesRestore(text: string): string {
  const tables: SortTable[] = []
  let current: SortTable | undefined
  text.replace(/^[ \t\n]+/, '').split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    if (line.startsWith('*')) {
      current = { name: line.slice(1), chains: [], rules: new Map(), deleted: new Set() }
      tables.push(current)
      return
    }
    if (!current) throw new ParseError(i + 1, `"${line}" outside a table`)
    if (line === 'COMMIT') {
      current = undefined
      return
    }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0]!
      current.chains.push({ line, name })
      current.rules.set(name, [])
      return
    }
    const words = line.split(' ')
    const chain = words[1] ?? ''
    if (words[0] === '-A') {
      const rules = current.rules.get(chain)
      if (!rules) throw new ParseError(i + 1, `rule for undeclared chain ${chain}`)
      if (current.deleted.has(chain)) throw new ParseError(i + 1, `rule for deleted chain ${chain}`)
      rules.push({ line, svc: serviceNameOfRule(line, i + 1) })
    } else if (words[0] === '-X') {
      if ((current.rules.get(chain)?.length ?? 0) > 0) throw new ParseError(i + 1, `cannot delete chain ${chain} with rules`)
      current.deleted.add(chain)
    } else throw new ParseError(i + 1, `unrecognised line "${line}"`)
  })
  const out: string[] = []
  for (const t of [...tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const chains = [...t.chains].sort((a, b) => compareChainNames(a.name, b.name))
    for (const [name, rules] of t.rules) {
      const sortable = name === 'KUBE-NODEPORTS' || name === 'KUBE-SERVICES'
      if (!sortable) continue
      if (t.name === 'filter' || name === 'KUBE-NODEPORTS') t.rules.set(name, stableSortByService(rules, false))
      else t.rules.set(name, stableSortByService(rules, true))
    }
    out.push(`*${t.name}`)
    for (const c of chains) out.push(c.line)
    for (const c of chains) out.push(...t.rules.get(c.name)!.map((r) => r.line))
    for (const c of chains) if (t.deleted.has(c.name)) out.push(`-X ${c.name}`)
    out.push('COMMIT')
  }
  return out.map((l) => `${l}\n`).join('')
}

function stableSortByService(rules: SortRule[], lastRuleLast: boolean): SortRule[] {
  const keyed = rules.map((r, index) => ({ rule: r, index, svc: r.svc, last: lastRuleLast && r.line.includes('must be the last rule') }))
  keyed.sort((a, b) => {
    if (a.last !== b.last) return a.last ? 1 : -1
    if (a.svc !== undefined && b.svc !== undefined && a.svc !== b.svc) return a.svc < b.svc ? -1 : 1
    return a.index - b.index
  })
  return keyed.map((k) => k.rule)
}
