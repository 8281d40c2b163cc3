/**
 * Renders a RuleTable the way `iptables-save` prints it after the kernel has parsed the rules:
 * basic matches first (-s -d -i -o -p), then each module with its options, addresses with a
 * prefix length, marks as --set-xmark, probabilities with 11 decimals, quoted comments.
 * Header and footer comments (version, date) are left out.
 */
import { assertNever } from '../../errors.js'
import type { IPFamily } from '../../net/index.js'
import { formatPortSpec, renderTargetArgs } from './render-iptables.js'
import type { Chain, CtState, Match, MarkValue, Rule, RuleTable, Target } from './types.js'

export function renderIptablesSave(table: RuleTable): string {
  let out = ''
  for (const t of table.tables) {
    out += `*${t.name}\n`
    for (const c of t.chains) out += `:${c.name} ${c.policy ?? '-'} [${c.counters?.packets ?? 0}:${c.counters?.bytes ?? 0}]\n`
    for (const c of t.chains) for (const r of c.rules) out += `-A ${c.name}${renderSavedRuleArgs(r, table.family)}\n`
    out += 'COMMIT\n'
  }
  return out
}

/** xtables_save_string: quoted unless every character is alphanumeric, '-' or '_'. */
function quoteSaved(text: string): string {
  return /^[A-Za-z0-9_-]+$/.test(text) ? text : `"${text.replace(/(["\\])/g, '\\$1')}"`
}

const hex = (m: MarkValue | number): string => `0x${(typeof m === 'number' ? m : m.value).toString(16)}`

function withPrefix(address: string, family: IPFamily): string {
  return address.includes('/') ? address : `${address}/${family === 'IPv4' || !address.includes(':') ? 32 : 128}`
}

const ctOrder: readonly CtState[] = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT']

function not(negated: true | undefined): string {
  return negated ? ' !' : ''
}

export function renderSavedRuleArgs(r: Rule, family: IPFamily): string {
  const basic: Partial<Record<'s' | 'd' | 'i' | 'o' | 'p', string>> = {}
  const modules: string[] = []
  // Index of the module that owns --dport/--sport options (the last -m tcp/udp/sctp seen).
  let l4: number | undefined
  let implicitProto: string | undefined
  for (const m of r.matches) {
    switch (m.kind) {
      case 'source':
        basic.s = `${not(m.negated)} -s ${withPrefix(m.address, family)}`
        break
      case 'destination':
        basic.d = `${not(m.negated)} -d ${withPrefix(m.address, family)}`
        break
      case 'in-interface':
        basic.i = `${not(m.negated)} -i ${m.name}`
        break
      case 'out-interface':
        basic.o = `${not(m.negated)} -o ${m.name}`
        break
      case 'protocol':
        basic.p = `${not(m.negated)} -p ${m.proto}`
        implicitProto = m.proto
        break
      case 'l4-module':
        l4 = modules.push(` -m ${m.proto}`) - 1
        break
      case 'dport':
      case 'sport':
        if (l4 === undefined) l4 = modules.push(` -m ${implicitProto ?? 'tcp'}`) - 1
        modules[l4] += `${not(m.negated)} --${m.kind} ${formatPortSpec(m.port)}`
        break
      default:
        modules.push(renderSavedModule(m))
    }
  }
  const head = (['s', 'd', 'i', 'o', 'p'] as const).map((k) => basic[k] ?? '').join('')
  return head + modules.join('') + (r.target ? renderSavedTarget(r.target, family) : '')
}

function renderSavedModule(m: Exclude<Match, { kind: 'source' | 'destination' | 'in-interface' | 'out-interface' | 'protocol' | 'l4-module' | 'dport' | 'sport' }>): string {
  switch (m.kind) {
    case 'comment':
      return ` -m comment --comment ${quoteSaved(m.text)}`
    case 'multiport':
      return ` -m multiport${not(m.negated)} --${m.side} ${m.ports.map(formatPortSpec).join(',')}`
    case 'addrtype':
      return ` -m addrtype${m.src ? `${not(m.src.negated)} --src-type ${m.src.type}` : ''}${m.dst ? `${not(m.dst.negated)} --dst-type ${m.dst.type}` : ''}`
    case 'statistic-random':
      // The kernel stores round(p * 2^31) and iptables prints it back with 11 decimals.
      return ` -m statistic --mode random --probability ${(Math.round(m.probability * 0x80000000) / 0x80000000).toFixed(11)}`
    case 'statistic-nth':
      return ` -m statistic --mode nth --every ${m.every} --packet ${m.packet}`
    case 'recent':
      return (
        ` -m recent --${m.op}` +
        (m.seconds !== undefined ? ` --seconds ${m.seconds}` : '') +
        (m.reap ? ' --reap' : '') +
        (m.hitcount !== undefined ? ` --hitcount ${m.hitcount}` : '') +
        ` --name ${m.name} --mask ${m.mask ?? '255.255.255.255'} --${m.side ?? 'rsource'}`
      )
    case 'mark':
      return ` -m mark${not(m.negated)} --mark ${hex(m.value)}${m.mask && m.mask.value !== 0xffffffff ? `/${hex(m.mask)}` : ''}`
    case 'conntrack':
      return ` -m conntrack${not(m.negated)} --ctstate ${[...m.states].sort((a, b) => ctOrder.indexOf(a) - ctOrder.indexOf(b)).join(',')}`
    case 'nfacct':
      return ` -m nfacct --nfacct-name ${m.name}`
    case 'physdev':
      return ` -m physdev${m.tokens.map((t) => ` ${t}`).join('')}`
    case 'unknown':
      return ` -m ${m.module}${m.tokens.map((t) => ` ${t}`).join('')}`
    default:
      return assertNever(m)
  }
}

function renderSavedTarget(t: Target, family: IPFamily): string {
  switch (t.kind) {
    case 'reject':
      return ` -j REJECT --reject-with ${t.with ?? (family === 'IPv4' ? 'icmp-port-unreachable' : 'icmp6-port-unreachable')}`
    case 'mark': {
      const v = t.value.value
      const all = 0xffffffff
      // Every MARK form is stored as (value, mask) and printed as --set-xmark.
      const [value, mask] =
        t.op === 'or' ? [v, v] : t.op === 'xor' ? [v, 0] : t.op === 'and' ? [0, (~v) >>> 0] : [v, t.mask?.value ?? all]
      return ` -j MARK --set-xmark ${hex(value)}/${hex(mask)}`
    }
    default:
      // Every other target prints back exactly as it was given.
      return renderTargetArgs(t)
  }
}

/** Chains as the kernel lists them: built-in chains first in hook order, then user chains by name. */
export function savedChainOrder(chains: readonly Chain[], builtins: readonly string[]): Chain[] {
  const builtin = builtins.flatMap((n) => chains.filter((c) => c.name === n))
  const user = chains.filter((c) => !builtins.includes(c.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return [...builtin, ...user]
}
