/**
 * The nftables packet-flow vectors (../shared/kube-proxy-golden-nft/flows): kpe's nftables
 * rules for a case, and one row checked two ways: with upstream's tracer semantics (paraphrased
 * from the flows README, a test oracle only) and with the real nftables semantics of kpe's nft
 * interpreter in explore mode.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { loadManifestText, parseProxierConfigFile } from '../../src/api/index.js'
import { proxierInputFromFile } from '../../src/cli/vector-config.js'
import type { L4Proto } from '../../src/net/index.js'
import { cidrTextContains, parseIP } from '../../src/net/index.js'
import { summarizeLikeUpstream, type Origin } from '../../src/proxy/netfilter/index.js'
import { compileNft, exploreNft, nftDocumentOf, parseNft, renderNftRule, type NftDocument, type NftExpr, type NftProgram, type NftRuleDef } from '../../src/proxy/netfilter/nft/index.js'
import { renderNftablesTransaction } from '../../src/proxy/nftables/index.js'
import { buildNodeNftRules } from '../../src/proxy/node-rules/index.js'
import type { FlowAnswer, FlowCase, FlowRow } from './flows.js'
import { goldenNftDir } from './shared.js'

export const nftFlowsDir = (): string => path.join(goldenNftDir, 'flows')

/** The `nft -f` text kpe renders for a case's input.yaml + config.yaml (a full sync on a fresh node). */
export function nftRulesText(c: FlowCase): string {
  const config = proxierInputFromFile(parseProxierConfigFile(readFileSync(path.join(c.dir, 'config.yaml'), 'utf8'), 'config.yaml'))
  const { ruleset } = buildNodeNftRules({ manifests: loadManifestText(readFileSync(path.join(c.dir, 'input.yaml'), 'utf8'), 'input.yaml'), ...config })
  return renderNftablesTransaction(ruleset)
}

export function nftDocumentOfText(text: string, source = 'kpe nft'): NftDocument {
  return nftDocumentOf(parseNft(text, { source }), { source })
}

export interface NftFlowRowResult {
  readonly row: FlowRow
  readonly upstream: FlowAnswer & { readonly matched: readonly string[] }
  readonly upstreamOk: boolean
  readonly real: FlowAnswer & { readonly origin: Origin; readonly unmodelled: readonly string[] }
  readonly realOk: boolean
}

export function runNftFlowRow(doc: NftDocument, prog: NftProgram, row: FlowRow, localIPs: readonly string[]): NftFlowRowResult {
  const proto = row.protocol.toLowerCase() as L4Proto
  const up = traceNftLikeUpstream(doc, { src: row.sourceIP, dst: row.destIP, dport: row.destPort, proto }, localIPs)
  const origin: Origin = localIPs.includes(row.sourceIP) ? 'local' : 'external'
  const ex = exploreNft(prog, { src: row.sourceIP, dst: row.destIP, dport: row.destPort, proto }, { localAddresses: new Set(localIPs) }, { origin })
  const real = summarizeLikeUpstream(ex.outcomes)
  return {
    row,
    upstream: up,
    upstreamOk: up.output === row.output && up.masq === row.masq,
    real: { ...real, origin, unmodelled: [...new Set(ex.outcomes.flatMap((o) => o.unmodelled.map((u) => `${u.chain} #${u.rule}: ${u.what}`)))] },
    realOk: real.output === row.output && real.masq === row.masq,
  }
}

export function formatNftFlowFailure(r: NftFlowRowResult): string {
  return [
    `row ${JSON.stringify(r.row.name)}: ${r.row.sourceIP} -> ${r.row.destIP}:${r.row.destPort}/${r.row.protocol}, want output ${JSON.stringify(r.row.output)} masq ${r.row.masq}`,
    `  upstream tracer: output ${JSON.stringify(r.upstream.output)} masq ${r.upstream.masq}`,
    `  real (${r.real.origin}): output ${JSON.stringify(r.real.output)} masq ${r.real.masq}`,
    ...(r.real.unmodelled.length ? ['  unmodelled:', ...r.real.unmodelled.map((u) => `    ${u}`)] : []),
    '  rules the upstream tracer applied:',
    ...r.upstream.matched.map((l) => `    ${l}`),
  ].join('\n')
}

// ---- upstream's tracer (README "What the tracer does"), over the typed rules ----

interface TracePacket {
  readonly src: string
  readonly dst: string
  readonly dport: number
  readonly proto: L4Proto
}

function inside(entry: string, ip: string): boolean {
  return entry.includes('/') ? parseIP(ip) !== undefined && cidrTextContains(entry, parseIP(ip)!) : parseIP(entry) === parseIP(ip)
}

export function traceNftLikeUpstream(doc: NftDocument, packet: TracePacket, localIPs: readonly string[]): FlowAnswer & { matched: string[] } {
  const table = doc.tables[0]!
  const chains = new Map(table.chains.map((c) => [c.name, c]))
  const sets = new Map(table.sets.map((s) => [s.name, s]))
  const outputs: string[] = []
  const matched: string[] = []
  let masq = false
  let dst = packet.dst
  const port = String(packet.dport)

  const addrTest = (e: Extract<NftExpr, { kind: 'match' }>, ip: string): boolean => {
    const r = e.right
    const neg = e.op === '!='
    if (r.kind === 'set-ref') return (sets.get(r.set)?.elements ?? []).some((el) => el.key[0] === ip) !== neg
    const items = r.kind === 'anonymous-set' ? r.items : r.values
    return neg ? !items.some((i) => inside(i, ip)) : items.every((i) => inside(i, ip))
  }

  /** true: terminated. */
  const runChain = (name: string): boolean => {
    const chain = chains.get(name)
    if (!chain) throw new Error(`unknown chain ${name}`)
    for (const rule of chain.rules) {
      const r = runRule(chain.name, rule)
      if (r === 'terminate') return true
      if (r === 'return') return false
    }
    return false
  }

  const runRule = (chain: string, rule: NftRuleDef): 'next' | 'terminate' | 'return' => {
    let exprs = rule.exprs
    const first = exprs[0]
    if (first?.kind === 'match' && first.key.parts[0]?.kind === 'ct') exprs = exprs.slice(1)
    const applied = (): void => {
      matched.push(`${chain}: ${renderNftRule(rule)}`)
    }
    for (let i = 0; i < exprs.length; i++) {
      const e = exprs[i]!
      if (e.kind === 'match') {
        const s = e.key.parts[0]!
        if (e.key.parts.length === 1 && s.kind === 'payload' && (s.field === 'daddr' || s.field === 'saddr')) {
          if (!addrTest(e, s.field === 'daddr' ? dst : packet.src)) return 'next'
          continue
        }
        if (s.kind === 'fib') {
          if (!localIPs.includes(s.side === 'daddr' ? dst : packet.src)) return 'next'
          continue
        }
        if (s.kind === 'payload' && s.field === 'dport' && s.proto !== 'th') {
          if (s.proto !== packet.proto || e.right.kind !== 'literal' || e.right.values[0] !== port) return 'next'
          continue
        }
        if (s.kind === 'meta' && s.key === 'l4proto' && exprs[i + 1]?.kind === 'dnat') {
          applied()
          outputs.push((exprs[i + 1] as { to: string }).to)
          return 'terminate'
        }
        throw new Error(`upstream tracer: unsupported match in ${chain}: ${renderNftRule(rule)}`)
      }
      if (e.kind === 'vmap') {
        if (e.map.kind === 'inline') {
          applied()
          for (const el of e.map.elements) if (el.verdict?.kind === 'goto' || el.verdict?.kind === 'jump') runChain(el.verdict.chain)
          return 'terminate'
        }
        const fields = e.key.parts.map((p) => (p.kind === 'payload' && p.field === 'daddr' ? dst : p.kind === 'meta' ? packet.proto : port))
        const hit = sets.get(e.map.set)?.elements.find((el) => el.key.join('\0') === fields.join('\0'))
        if (!hit?.verdict) return 'next'
        return verdict(chain, rule, hit.verdict, applied)
      }
      if (e.kind === 'verdict') return verdict(chain, rule, e.verdict, applied)
      throw new Error(`upstream tracer: unsupported ${e.kind} in ${chain}: ${renderNftRule(rule)}`)
    }
    return 'next'
  }

  const verdict = (_chain: string, _rule: NftRuleDef, v: NonNullable<NftRuleDef['exprs'][number] & { kind: 'verdict' }>['verdict'], applied: () => void): 'next' | 'terminate' | 'return' => {
    applied()
    switch (v.kind) {
      case 'jump':
        if (v.chain === 'mark-for-masquerade') {
          masq = true
          return 'next'
        }
        return runChain(v.chain) ? 'terminate' : 'next'
      case 'goto':
        return runChain(v.chain) ? 'terminate' : 'return'
      case 'drop':
        outputs.push('DROP')
        return 'terminate'
      case 'reject':
        outputs.push('REJECT')
        return 'terminate'
      case 'return':
        return 'return'
      default:
        throw new Error(`upstream tracer: unsupported verdict ${v.kind}`)
    }
  }

  const done = (): FlowAnswer & { matched: string[] } => ({ output: outputs.join(', '), masq, matched })
  if (runChain('filter-prerouting-pre-dnat')) return done()
  runChain('nat-prerouting')
  if (outputs.length > 0) {
    const first = outputs[0]!
    dst = first.startsWith('[') ? first.slice(1, first.indexOf(']')) : first.slice(0, first.lastIndexOf(':'))
  }
  if (runChain('filter-forward')) return done()
  runChain('filter-input')
  return done()
}

export function compileNftText(text: string): { doc: NftDocument; prog: NftProgram } {
  const doc = nftDocumentOfText(text)
  return { doc, prog: compileNft(doc) }
}
