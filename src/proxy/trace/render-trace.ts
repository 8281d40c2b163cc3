/** Human and JSON renderings of a TraceReport. Text is produced here and nowhere else. */
import type { HopView, OutcomeView, TraceReport } from './trace.js'

function hopLine(h: HopView): string {
  const where = `${h.table.padEnd(6)} ${h.chain} #${h.rule}`
  const comment = h.comment ? `  "${h.comment}"` : ''
  const cond = h.decisive ? `  [${h.matched ? '' : 'no match: '}${h.decisive}]` : ''
  return `  ${where}${comment}${cond}${h.matched ? `  ${h.target}` : ''}`
}

function percent(p: number): string {
  return `${(p * 100).toFixed(p === 1 || p === 0 ? 0 : 1)}%`
}

function outcomeHeadline(o: OutcomeView): string {
  const head = o.verdict === 'DNAT' ? `DNAT to ${o.endpoint}${o.pod ? ` (${o.pod})` : ''}` : o.verdict
  return `${percent(o.probability).padStart(6)}  ${head}: ${o.reason}`
}

export function renderTraceText(r: TraceReport): string {
  const lines: string[] = []
  const p = r.packet
  lines.push(`${r.from} -> ${r.to}, ${p.proto} ${p.src} -> ${p.dst}:${p.dport}, on ${r.node} (${r.origin === 'local' ? 'sent by the node: nat OUTPUT' : 'arriving: nat PREROUTING'})`)
  lines.push('')
  if (r.commonHops.length > 0) {
    lines.push('rules matched:')
    lines.push(...r.commonHops.map(hopLine))
    lines.push('')
  }
  lines.push(r.outcomes.length === 1 ? 'outcome:' : `${r.outcomes.length} possible outcomes:`)
  for (const o of r.outcomes) {
    lines.push(outcomeHeadline(o))
    lines.push(...o.hops.map((h) => `    ${hopLine(h).trimStart()}`))
    for (const u of o.unmodelled) lines.push(`    unmodelled (treated as not matching): ${u}`)
  }
  return `${lines.join('\n')}\n`
}

/** JSON for machines; `output` and `masq` are upstream's tracer answer for the flow vectors. */
export function traceJson(r: TraceReport): unknown {
  return {
    node: r.node,
    origin: r.origin,
    from: r.from,
    to: r.to,
    packet: r.packet,
    output: r.output,
    masq: r.masq,
    hops: r.commonHops,
    outcomes: r.outcomes,
  }
}
