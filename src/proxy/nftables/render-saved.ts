/**
 * The saved form: a ruleset as `nft list table <family> kube-proxy` prints it after loading
 * (nftables 1.0.x): sets, maps and chains in creation order, element lists wrapped as the tool
 * wraps them, named base-chain priorities, `size 65535` on sets a rule updates. Checked against
 * the kernel for every fixture (test/e2e/nft-saved-kernel.test.ts).
 */
import { ipToBigInt, parseIPSloppy } from '../../net/index.js'
import type { NftBaseChainSpec, NftChain, NftElementKeyPart, NftMap, NftRuleset, NftSet, NftSetElement } from './types.js'
import { quote, renderRuleBody } from './render.js'
import { elementKeyString } from './ruleset-builder.js'

/** nft's standard priority names, each valid only on some hooks (else the number is printed). */
function priorityText(b: NftBaseChainSpec): string {
  const named: readonly (readonly [string, number, readonly string[]])[] = [
    ['filter', 0, ['prerouting', 'input', 'forward', 'output', 'postrouting']],
    ['dstnat', -100, ['prerouting']],
    ['srcnat', 100, ['postrouting']],
  ]
  for (const [name, value, hooks] of named) {
    if (!hooks.includes(b.hook)) continue
    const d = b.priority - value
    if (Math.abs(d) <= 10) return d === 0 ? name : `${name} ${d < 0 ? '-' : '+'} ${Math.abs(d)}`
  }
  return String(b.priority)
}

/** `3h`, `1m40s`: nft's duration format. */
function durationText(seconds: number): string {
  const parts: [number, string][] = [[Math.floor(seconds / 86400), 'd'], [Math.floor(seconds / 3600) % 24, 'h'], [Math.floor(seconds / 60) % 60, 'm'], [seconds % 60, 's']]
  const text = parts.filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`).join('')
  return text === '' ? '0s' : text
}

const protoNumbers: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 }

/**
 * The order nft lists a set's elements in: the key's register bytes (each part in network order,
 * padded to 4 bytes) read as one little-endian number, as nft (on a little-endian host) sorts them.
 */
function keyBytes(key: readonly NftElementKeyPart[]): number[] {
  const out: number[] = []
  for (const p of key) {
    if (p.kind === 'address') {
      const ip = parseIPSloppy(p.address)
      const width = p.address.includes(':') ? 16 : 4
      const v = ip === undefined ? 0n : ipToBigInt(ip)
      for (let i = width - 1; i >= 0; i--) out.push(Number((v >> BigInt(i * 8)) & 0xffn))
    } else if (p.kind === 'proto') out.push(protoNumbers[p.proto] ?? 0, 0, 0, 0)
    else out.push((p.port >> 8) & 0xff, p.port & 0xff, 0, 0)
  }
  return out
}

function listedOrder<E extends NftSetElement>(elements: readonly E[]): E[] {
  const keyed = elements.map((e) => ({ e, k: keyBytes(e.key) }))
  keyed.sort((a, b) => {
    for (let i = Math.max(a.k.length, b.k.length) - 1; i >= 0; i--) {
      const d = (a.k[i] ?? 0) - (b.k[i] ?? 0)
      if (d !== 0) return d
    }
    return 0
  })
  return keyed.map((x) => x.e)
}

/** Elements after `elements = { `: IPv4 addresses two per line; IPv6 addresses, concatenations and verdicts one per line. */
function elementsText(lines: readonly string[], onePerLine: boolean): string {
  const wrap = ',\n\t\t\t     '
  return lines.map((l, i) => (i === 0 ? l : (onePerLine || i % 2 === 0 ? wrap : ', ') + l)).join('')
}

function setBlock(s: NftSet, updated: ReadonlySet<string>): string {
  let out = `\tset ${s.name} {\n\t\ttype ${s.type.join(' . ')}\n`
  if (updated.has(s.name)) out += '\t\tsize 65535\n'
  if (s.flags && s.flags.length > 0) out += `\t\tflags ${s.flags.join(',')}\n`
  if (s.timeoutSeconds !== undefined) out += `\t\ttimeout ${durationText(s.timeoutSeconds)}\n`
  if (s.comment !== undefined) out += `\t\tcomment ${quote(s.comment)}\n`
  const lines = listedOrder(s.elements).map((e) => elementKeyString(e.key) + (e.comment !== undefined ? ` comment ${quote(e.comment)}` : ''))
  if (lines.length > 0) out += `\t\telements = { ${elementsText(lines, s.type.length > 1 || s.type[0] === 'ipv6_addr' || s.elements.some((e) => e.comment !== undefined))} }\n`
  return `${out}\t}\n`
}

function mapBlock(m: NftMap): string {
  let out = `\tmap ${m.name} {\n\t\ttype ${m.keyType.join(' . ')} : verdict\n`
  if (m.comment !== undefined) out += `\t\tcomment ${quote(m.comment)}\n`
  const lines = listedOrder(m.elements).map((e) => `${elementKeyString(e.key)}${e.comment !== undefined ? ` comment ${quote(e.comment)}` : ''} : ${e.value.kind === 'goto' ? `goto ${e.value.chain}` : 'drop'}`)
  if (lines.length > 0) out += `\t\telements = { ${elementsText(lines, true)} }\n`
  return `${out}\t}\n`
}

function chainBlock(c: NftChain, family: NftRuleset['family']): string {
  let out = `\tchain ${c.name} {\n`
  if (c.comment !== undefined) out += `\t\tcomment ${quote(c.comment)}\n`
  if (c.base) out += `\t\ttype ${c.base.type} hook ${c.base.hook} priority ${priorityText(c.base)}; policy accept;\n`
  for (const r of c.rules) out += `\t\t${renderRuleBody(r, family, 'list')}\n`
  return `${out}\t}\n`
}

export function renderNftablesSaved(rs: NftRuleset): string {
  const updated = new Set(rs.chains.flatMap((c) => c.rules.flatMap((r) => r.statements.flatMap((s) => (s.kind === 'set-update' ? [s.set] : [])))))
  const blocks = [...rs.sets.map((s) => setBlock(s, updated)), ...rs.maps.map(mapBlock), ...rs.chains.map((c) => chainBlock(c, rs.family))]
  const head = `table ${rs.family} ${rs.table.name} {\n${rs.table.comment !== undefined ? `\tcomment ${quote(rs.table.comment)}\n` : ''}`
  return `${head}${blocks.join('\n')}}\n`
}
