/**
 * Packet-flow vectors from ../shared/kube-proxy-golden/flows: loading a case and checking one
 * row against a RuleTable with both upstream's tracer and the real (explore) interpreter.
 * `shared/` is $KPE_SHARED if set, else ../shared next to the repository (see shared.ts).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { Origin, RuleTable } from '../../src/proxy/netfilter/index.js'
import { savedView, traceLikeUpstream } from '../../src/proxy/iptables/index.js'
import { explore, renderRuleArgs, summarizeLikeUpstream } from '../../src/proxy/netfilter/index.js'
import type { L4Proto } from '../../src/net/index.js'
import { goldenDir } from './shared.js'

/**
 * The packet a row sends, in upstream's tracer fields: the row type every packet-flow check
 * shares (the upstream vectors here, the kernel lab's oracle rows in lab-oracle.ts).
 */
export interface PacketRow {
  readonly name: string
  readonly sourceIP: string
  readonly destIP: string
  readonly destPort: number
  readonly protocol: 'TCP' | 'UDP' | 'SCTP'
}

/** An upstream vector row: the packet and the answer upstream's tracer gives. */
export interface FlowRow extends PacketRow {
  readonly output: string
  readonly masq: boolean
}

export interface FlowCase {
  readonly name: string
  readonly dir: string
  readonly rows: readonly FlowRow[]
  readonly localIPs: readonly string[]
  /** trace-packet only: the rule dump the rows are traced through. */
  readonly iptables?: string
}

export function flowsDir(): string {
  return path.join(goldenDir, 'flows')
}

export function listFlowCases(dir: string = flowsDir()): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
}

export function loadFlowCase(name: string): FlowCase {
  return loadFlowCaseIn(flowsDir(), name)
}

/** A case of another vector set with the same layout (the nftables flows). */
export function loadFlowCaseIn(casesDir: string, name: string): FlowCase {
  const dir = path.join(casesDir, name)
  const rows = parseYaml(readFileSync(path.join(dir, 'flows.yaml'), 'utf8')) as FlowRow[]
  const config = parseYaml(readFileSync(path.join(dir, 'config.yaml'), 'utf8')) as { tracer?: { localIPs?: string[] } }
  const localIPs = config.tracer?.localIPs ?? []
  const ipt = path.join(dir, 'input.iptables')
  return { name, dir, rows, localIPs, ...(existsSync(ipt) ? { iptables: readFileSync(ipt, 'utf8') } : {}) }
}

export interface FlowAnswer {
  readonly output: string
  readonly masq: boolean
}

export interface FlowRowResult {
  readonly row: FlowRow
  /** traceLikeUpstream: must equal the row exactly. */
  readonly upstream: FlowAnswer
  readonly upstreamOk: boolean
  /** explore() with real netfilter semantics, folded with summarizeLikeUpstream. */
  readonly real: FlowAnswer & { readonly origin: Origin; readonly unmodelled: readonly string[] }
  readonly realOk: boolean
  /** `-A CHAIN ...` texts of the rules upstream's tracer applied, for failure messages. */
  readonly matchedRules: readonly string[]
}

/** Traces one row both ways. A source that is a node address is sent by the node itself (OUTPUT). */
export function runFlowRow(table: RuleTable, row: FlowRow, localIPs: readonly string[]): FlowRowResult {
  const proto = row.protocol.toLowerCase() as L4Proto
  const up = traceLikeUpstream(table, { src: row.sourceIP, dst: row.destIP, dport: row.destPort, proto }, localIPs)
  const origin: Origin = localIPs.includes(row.sourceIP) ? 'local' : 'external'
  const ex = explore(table, { src: row.sourceIP, dst: row.destIP, dport: row.destPort, proto }, { localAddresses: new Set(localIPs) }, { origin })
  const real = summarizeLikeUpstream(ex.outcomes)
  return {
    row,
    upstream: { output: up.output, masq: up.masq },
    upstreamOk: up.output === row.output && up.masq === row.masq,
    real: {
      ...real,
      origin,
      unmodelled: [...new Set(ex.outcomes.flatMap((o) => o.unmodelled.map((u) => `${u.table} ${u.chain} #${u.rule}: ${u.what}`)))],
    },
    realOk: real.output === row.output && real.masq === row.masq,
    matchedRules: up.matched.map((m) => `${m.table}: -A ${m.chain}${renderRuleArgs(m.ruleRef)}`),
  }
}

export function formatFlowFailure(r: FlowRowResult): string {
  const want = `output ${JSON.stringify(r.row.output)} masq ${r.row.masq}`
  return [
    `row ${JSON.stringify(r.row.name)}: ${r.row.sourceIP} -> ${r.row.destIP}:${r.row.destPort}/${r.row.protocol}, want ${want}`,
    `  upstream tracer: output ${JSON.stringify(r.upstream.output)} masq ${r.upstream.masq}`,
    `  real (${r.real.origin}): output ${JSON.stringify(r.real.output)} masq ${r.real.masq}`,
    ...(r.real.unmodelled.length ? ['  unmodelled:', ...r.real.unmodelled.map((u) => `    ${u}`)] : []),
    '  rules the upstream tracer applied:',
    ...r.matchedRules.map((l) => `    ${l}`),
  ].join('\n')
}

/**
 * The node's tables after a full sync: the builder's restore text plus the jump rules kube-proxy
 * installs in built-in chains with separate commands (src/proxy/iptables/saved-view.ts).
 */
export function withKubeProxyJumps(table: RuleTable): RuleTable {
  return savedView(table)
}
