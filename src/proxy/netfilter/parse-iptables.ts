/**
 * Parses iptables-save output and iptables-restore input (kube-proxy's form) into a RuleTable.
 * Owns the line structure (tables, chain declarations, rules, -X, COMMIT); the arguments of a
 * rule are parse-rule-args.ts's job. Errors are ParseErrors naming the 1-based line.
 */
import type { ChainName, IPFamily } from '../../net/index.js'
import { chainName } from '../../net/index.js'
import type { BuiltinPolicy, Chain, Counters, Rule, RuleTable, Table, TableName } from './types.js'
import { builtinChains } from './types.js'
import { tokenizeRestoreLine } from './tokenize-restore.js'
import { parseRuleArgs } from './parse-rule-args.js'
import type { ValueSite } from './parse-values.js'
import { fail, parseUint } from './parse-values.js'

export interface ParseIptablesOptions {
  /** Name used in error messages (a file name); default "input". */
  readonly source?: string
  /** Family of the dump; default: IPv6 if any -s/-d address contains ":", else IPv4. */
  readonly family?: IPFamily
}

interface OpenChain {
  readonly name: ChainName
  policy?: BuiltinPolicy
  counters?: Counters
  readonly rules: Rule[]
}

interface OpenTable {
  readonly name: TableName
  readonly line: number
  readonly chains: Map<string, OpenChain>
  readonly declared: Set<string>
  readonly deleted: ChainName[]
}

const counterPattern = /^\[(\d+):(\d+)\]$/

/** Counters are kept only when they are not [0:0], so a dump with and without `-c` parse alike. */
function parseCounters(text: string, site: ValueSite): Counters | undefined {
  const m = counterPattern.exec(text)
  if (!m) fail(site, `bad counters ${JSON.stringify(text)}`)
  const packets = parseUint(m[1]!, site, 'packet counter', Number.MAX_SAFE_INTEGER)
  const bytes = parseUint(m[2]!, site, 'byte counter', Number.MAX_SAFE_INTEGER)
  return packets === 0 && bytes === 0 ? undefined : { packets, bytes }
}

function finishTable(t: OpenTable): Table {
  const chains: Chain[] = []
  for (const c of t.chains.values()) {
    chains.push({
      name: c.name,
      ...(c.policy ? { policy: c.policy } : {}),
      ...(c.counters ? { counters: c.counters } : {}),
      rules: c.rules,
    })
  }
  return { name: t.name, chains, deletedChains: t.deleted }
}

function isTableName(s: string): s is TableName {
  return Object.hasOwn(builtinChains, s)
}

export function parseIptablesSave(text: string, opts: ParseIptablesOptions = {}): RuleTable {
  const tables: Table[] = []
  const seen = new Set<string>()
  let open: OpenTable | undefined
  let sawIPv6 = false
  const lines = text.split('\n')
  for (let n = 0; n < lines.length; n++) {
    const site: ValueSite = { line: n + 1, ...(opts.source !== undefined ? { source: opts.source } : {}) }
    const line = lines[n]!.trim()
    if (line === '' || line.startsWith('#')) continue
    if (line.startsWith('*')) {
      if (open) fail(site, `table ${open.name} (line ${open.line}) has no COMMIT before the next table`)
      const name = line.slice(1).trim()
      if (!isTableName(name)) fail(site, `unknown table ${JSON.stringify(name)}`)
      if (seen.has(name)) fail(site, `table ${name} appears twice`)
      seen.add(name)
      open = { name, line: n + 1, chains: new Map(), declared: new Set(), deleted: [] }
      continue
    }
    if (!open) fail(site, `${JSON.stringify(line.slice(0, 40))} outside a table (missing "*table" line)`)
    if (line === 'COMMIT') {
      tables.push(finishTable(open))
      open = undefined
      continue
    }
    if (line.startsWith(':')) {
      declareChain(open, line, site)
      continue
    }
    const parsed = parseRuleLine(open, line, site)
    if (parsed) sawIPv6 ||= parsed
  }
  if (open) fail({ ...opts, line: lines.length }, `truncated dump: table ${open.name} has no COMMIT`)
  return { family: opts.family ?? (sawIPv6 ? 'IPv6' : 'IPv4'), tables }
}

function declareChain(t: OpenTable, line: string, site: ValueSite): void {
  const parts = line.slice(1).trim().split(/\s+/)
  const [name, policy, counters] = parts
  if (!name || !policy || parts.length > 3) fail(site, 'chain line must be ":NAME POLICY [packets:bytes]"')
  if (policy !== '-' && policy !== 'ACCEPT' && policy !== 'DROP') fail(site, `bad chain policy ${JSON.stringify(policy)}`)
  if (t.declared.has(name)) fail(site, `chain ${name} declared twice in table ${t.name}`)
  t.declared.add(name)
  const chain: OpenChain = t.chains.get(name) ?? { name: chainName(name), rules: [] }
  if (policy !== '-') chain.policy = policy
  const c = counters === undefined ? undefined : parseCounters(counters, site)
  if (c) chain.counters = c
  t.chains.set(name, chain)
}

/** Returns whether the rule mentioned an IPv6 address; undefined for -X lines. */
function parseRuleLine(t: OpenTable, line: string, site: ValueSite): boolean | undefined {
  let rest = line
  let counters: Counters | undefined
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']')
    if (end < 0) fail(site, 'unterminated counters')
    counters = parseCounters(rest.slice(0, end + 1), site)
    rest = rest.slice(end + 1)
  }
  const tokens = tokenizeRestoreLine(rest, site.line, site.source)
  const cmd = tokens[0]
  if (!cmd || cmd.quoted) fail(site, `unknown line ${JSON.stringify(line.slice(0, 40))}`)
  if (cmd.text === '-X' || cmd.text === '--delete-chain') {
    const name = tokens[1]
    if (!name || tokens.length !== 2 || counters) fail(site, '-X takes exactly one chain name')
    t.deleted.push(chainName(name.text))
    return undefined
  }
  if (cmd.text !== '-A' && cmd.text !== '--append') fail(site, `unknown line ${JSON.stringify(line.slice(0, 40))} (kpe reads -A, -X, :CHAIN, COMMIT)`)
  const name = tokens[1]?.text
  if (!name) fail(site, '-A requires a chain name')
  // With --noflush a restore may append to a chain declared elsewhere; keep it, in first-use order.
  let chain = t.chains.get(name)
  if (!chain) {
    chain = { name: chainName(name), rules: [] }
    t.chains.set(name, chain)
  }
  const parsed = parseRuleArgs(tokens.slice(2), site)
  chain.rules.push(counters ? { ...parsed.rule, counters } : parsed.rule)
  return parsed.sawIPv6
}
