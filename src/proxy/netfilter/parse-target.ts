/**
 * Turns `-j NAME [options]` / `-g NAME` into a typed Target. Targets kpe does not model, and
 * modelled targets with options the AST cannot hold, stay `{kind: 'unknown', name, tokens}`.
 */
import { chainName } from '../../net/index.js'
import type { Target } from './types.js'
import { nonChainTargets } from './types.js'
import { markTargetFlag } from './render-iptables.js'
import type { ValueSite } from './parse-values.js'
import { fail, parseMark } from './parse-values.js'

const markOps = Object.fromEntries(Object.entries(markTargetFlag).map(([op, flag]) => [flag, op])) as Readonly<
  Record<string, Extract<Target, { kind: 'mark' }>['op']>
>

/** Pairs `--flag [value]` options; flags listed in `valueless` take no argument. */
function pairOptions(tokens: readonly string[], valueless: ReadonlySet<string>): Map<string, string> | undefined {
  const out = new Map<string, string>()
  for (let i = 0; i < tokens.length; i++) {
    const flag = tokens[i]!
    if (!flag.startsWith('--') || out.has(flag)) return undefined
    if (valueless.has(flag)) out.set(flag, '')
    else {
      const v = tokens[i + 1]
      if (v === undefined) return undefined
      out.set(flag, v)
      i++
    }
  }
  return out
}

const none: ReadonlySet<string> = new Set()
const randomFully: ReadonlySet<string> = new Set(['--random-fully'])

export function buildTarget(kind: 'jump' | 'goto', name: string, tokens: readonly string[], site: ValueSite): Target {
  if (kind === 'goto') {
    if (tokens.length > 0) fail(site, `unexpected argument ${JSON.stringify(tokens[0])} after -g ${name}`)
    return { kind: 'goto', chain: chainName(name) }
  }
  const unknown: Target = { kind: 'unknown', name, tokens }
  switch (name) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
      return tokens.length === 0 ? { kind: 'verdict', verdict: name } : unknown
    case 'REJECT': {
      const o = pairOptions(tokens, none)
      if (!o || [...o.keys()].some((k) => k !== '--reject-with')) return unknown
      const w = o.get('--reject-with')
      return w === undefined ? { kind: 'reject' } : { kind: 'reject', with: w }
    }
    case 'DNAT': {
      const o = pairOptions(tokens, none)
      if (!o || o.size !== 1 || !o.has('--to-destination')) return unknown
      return { kind: 'dnat', to: o.get('--to-destination')! }
    }
    case 'SNAT': {
      const o = pairOptions(tokens, randomFully)
      if (!o || !o.has('--to-source') || o.size !== (o.has('--random-fully') ? 2 : 1)) return unknown
      return { kind: 'snat', to: o.get('--to-source')!, ...(o.has('--random-fully') ? { randomFully: true as const } : {}) }
    }
    case 'MASQUERADE': {
      const o = pairOptions(tokens, randomFully)
      if (!o || [...o.keys()].some((k) => k !== '--to-ports' && k !== '--random-fully')) return unknown
      return {
        kind: 'masquerade',
        ...(o.has('--random-fully') ? { randomFully: true as const } : {}),
        ...(o.has('--to-ports') ? { toPorts: o.get('--to-ports')! } : {}),
      }
    }
    case 'MARK': {
      const o = pairOptions(tokens, none)
      if (!o || o.size !== 1) return unknown
      const [flag, value] = [...o.entries()][0]!
      const op = markOps[flag]
      if (op === undefined) return unknown
      const v = parseMark(value, site)
      return { kind: 'mark', op, value: v.value, ...(v.mask ? { mask: v.mask } : {}) }
    }
    default:
      if (tokens.length === 0 && !nonChainTargets.has(name)) return { kind: 'jump', chain: chainName(name) }
      return unknown
  }
}
