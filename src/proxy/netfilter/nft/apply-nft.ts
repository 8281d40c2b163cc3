/**
 * A transaction applied as `nft -f` does: all commands or none. Checks what the kernel checks
 * (tables, chains and sets exist before they are used, jump targets and `@set` references are
 * declared, element keys fit the set's type, busy chains and sets are not deleted) and names
 * the line of the failing command. Pure: returns a new document.
 */
import { ParseError } from '../../../errors.js'
import type { NftChainDef, NftCommand, NftDocument, NftElementDef, NftExpr, NftRuleDef, NftSetDef, NftTableDef, NftVerdictDef } from './types.js'

interface MutableTable {
  family: NftTableDef['family']
  name: string
  comment?: string
  sets: Map<string, { def: NftSetDef; elements: Map<string, NftElementDef> }>
  chains: Map<string, { def: NftChainDef; rules: NftRuleDef[] }>
  nextHandle: number
}

export const emptyNftDocument: NftDocument = { tables: [] }

const elementKey = (e: NftElementDef): string => e.key.join(' . ')

function thaw(doc: NftDocument): Map<string, MutableTable> {
  const out = new Map<string, MutableTable>()
  for (const t of doc.tables) {
    let nextHandle = 1
    const chains = new Map<string, { def: NftChainDef; rules: NftRuleDef[] }>()
    for (const c of t.chains) {
      chains.set(c.name, { def: c, rules: [...c.rules] })
      for (const r of c.rules) nextHandle = Math.max(nextHandle, (r.handle ?? 0) + 1)
    }
    out.set(`${t.family} ${t.name}`, {
      family: t.family,
      name: t.name,
      ...(t.comment !== undefined ? { comment: t.comment } : {}),
      sets: new Map(t.sets.map((s) => [s.name, { def: s, elements: new Map(s.elements.map((e) => [elementKey(e), e])) }])),
      chains,
      nextHandle,
    })
  }
  return out
}

function freeze(tables: Map<string, MutableTable>): NftDocument {
  return {
    tables: [...tables.values()].map((t) => ({
      family: t.family,
      name: t.name,
      ...(t.comment !== undefined ? { comment: t.comment } : {}),
      sets: [...t.sets.values()].map((s) => ({ ...s.def, elements: [...s.elements.values()] })),
      chains: [...t.chains.values()].map((c) => ({ ...c.def, rules: c.rules })),
    })),
  }
}

function verdictTargets(v: NftVerdictDef | undefined): string[] {
  return v && (v.kind === 'jump' || v.kind === 'goto') ? [v.chain] : []
}

/** Chains and sets a rule refers to. */
function references(r: NftRuleDef): { chains: string[]; sets: string[] } {
  const chains: string[] = []
  const sets: string[] = []
  const visit = (e: NftExpr): void => {
    if (e.kind === 'verdict') chains.push(...verdictTargets(e.verdict))
    else if (e.kind === 'vmap') {
      if (e.map.kind === 'set-ref') sets.push(e.map.set)
      else for (const el of e.map.elements) chains.push(...verdictTargets(el.verdict))
    } else if (e.kind === 'match' && e.right.kind === 'set-ref') sets.push(e.right.set)
    else if (e.kind === 'set-update') sets.push(e.set)
  }
  r.exprs.forEach(visit)
  return { chains, sets }
}

export function applyNftCommands(doc: NftDocument, commands: readonly NftCommand[], opts: { readonly source?: string } = {}): NftDocument {
  const source = opts.source ?? 'nft input'
  const tables = thaw(doc)
  for (const cmd of commands) {
    const fail = (reason: string): never => {
      throw new ParseError(cmd.line, `${cmd.op} ${cmd.what}: ${reason}`, { source })
    }
    if (cmd.what === 'ruleset') {
      tables.clear()
      continue
    }
    const key = `${cmd.family} ${cmd.table}`
    if (cmd.what === 'table') {
      if (cmd.op === 'add') {
        const t: MutableTable = tables.get(key) ?? { family: cmd.family, name: cmd.table, sets: new Map(), chains: new Map(), nextHandle: 1 }
        if (cmd.comment !== undefined) t.comment = cmd.comment
        tables.set(key, t)
      } else if (!tables.has(key)) fail(`table ${key} does not exist`)
      else if (cmd.op === 'delete') tables.delete(key)
      else {
        const t = tables.get(key)!
        for (const c of t.chains.values()) c.rules = []
        for (const s of t.sets.values()) s.elements = new Map()
      }
      continue
    }
    const t = tables.get(key) ?? fail(`table ${key} does not exist`)
    switch (cmd.what) {
      case 'chain': {
        const name = cmd.chain.name
        const have = t.chains.get(name)
        if (cmd.op === 'add') {
          if (have && cmd.chain.base && JSON.stringify(have.def.base) !== JSON.stringify(cmd.chain.base)) fail(`chain ${name} exists with another type, hook or priority`)
          t.chains.set(name, { def: { ...(have?.def ?? {}), ...cmd.chain, rules: [] }, rules: have?.rules ?? [] })
        } else if (!have) fail(`chain ${name} does not exist in table ${key}`)
        else if (cmd.op === 'flush') have.rules = []
        else {
          const user = [...t.chains.values()].find((c) => c !== have && c.rules.some((r) => references(r).chains.includes(name)))
          const mapUser = [...t.sets.values()].find((s) => [...s.elements.values()].some((e) => verdictTargets(e.verdict).includes(name)))
          if (user || mapUser) fail(`chain ${name} is in use (by ${user ? `a rule in chain ${user.def.name}` : `an element of ${mapUser!.def.name}`}): Device or resource busy`)
          t.chains.delete(name)
        }
        break
      }
      case 'set': {
        const name = cmd.set.name
        const have = t.sets.get(name)
        if (cmd.op === 'add') {
          if (have && (have.def.kind !== cmd.set.kind || have.def.keyType.join('.') !== cmd.set.keyType.join('.'))) fail(`${cmd.set.kind} ${name} exists with another type`)
          const entry = have ?? { def: { ...cmd.set, elements: [] }, elements: new Map<string, NftElementDef>() }
          t.sets.set(name, entry)
          addElements(entry, cmd.set.elements, fail)
        } else if (!have) fail(`${cmd.set.kind} ${name} does not exist in table ${key}`)
        else if (cmd.op === 'flush') have.elements = new Map()
        else {
          const user = [...t.chains.values()].find((c) => c.rules.some((r) => references(r).sets.includes(name)))
          if (user) fail(`${have.def.kind} ${name} is in use by a rule in chain ${user.def.name}: Device or resource busy`)
          t.sets.delete(name)
        }
        break
      }
      case 'element': {
        const s = t.sets.get(cmd.set) ?? fail(`set or map ${cmd.set} does not exist in table ${key}`)
        if (cmd.op === 'add') {
          for (const e of cmd.elements) for (const c of verdictTargets(e.verdict)) if (!t.chains.has(c)) fail(`element ${elementKey(e)}: chain ${c} does not exist`)
          addElements(s, cmd.elements, fail)
        } else {
          for (const e of cmd.elements) if (!s.elements.delete(elementKey(e))) fail(`element ${elementKey(e)} is not in ${cmd.set}`)
        }
        break
      }
      case 'rule': {
        const c = t.chains.get(cmd.chain) ?? fail(`chain ${cmd.chain} does not exist in table ${key}`)
        if (cmd.op === 'delete') {
          const i = c.rules.findIndex((r) => r.handle === cmd.handle)
          if (i < 0) fail(`chain ${cmd.chain} has no rule with handle ${cmd.handle}`)
          c.rules.splice(i, 1)
          break
        }
        const refs = references(cmd.rule)
        for (const target of refs.chains) if (!t.chains.has(target)) fail(`jump target ${target} does not exist`)
        for (const set of refs.sets) if (!t.sets.has(set)) fail(`set @${set} does not exist`)
        const rule = { ...cmd.rule, handle: t.nextHandle++ }
        if (cmd.op === 'add') c.rules.push(rule)
        else {
          const at = cmd.handle === undefined ? 0 : c.rules.findIndex((r) => r.handle === cmd.handle)
          if (at < 0) fail(`chain ${cmd.chain} has no rule with handle ${cmd.handle}`)
          c.rules.splice(at, 0, rule)
        }
        break
      }
    }
  }
  return freeze(tables)
}

function addElements(s: { def: NftSetDef; elements: Map<string, NftElementDef> }, elements: readonly NftElementDef[], fail: (r: string) => never): void {
  for (const e of elements) {
    if (e.key.length !== s.def.keyType.length) fail(`element ${elementKey(e)} has ${e.key.length} key parts; ${s.def.name} is ${s.def.keyType.join(' . ')}`)
    if ((s.def.kind === 'map') !== (e.verdict !== undefined)) fail(`element ${elementKey(e)}: ${s.def.kind === 'map' ? 'a map element needs ": verdict"' : 'a set element takes no value'}`)
    s.elements.set(elementKey(e), e)
  }
}

/** Parses and applies in one step: the document an `nft -f` of `text` on an empty host leaves. */
export function nftDocumentOf(commands: readonly NftCommand[], opts: { readonly source?: string } = {}): NftDocument {
  return applyNftCommands(emptyNftDocument, commands, opts)
}

/**
 * A dump sorted for reading (knftables' Fake.Dump(), upstream's expected texts) lists rules and
 * elements next to the chains they use, before some declarations; `nft -f` needs declarations
 * first. Stable: tables, then chains and sets, then everything else, each in text order.
 */
export function declarationsFirst(commands: readonly NftCommand[]): NftCommand[] {
  const rank = (c: NftCommand): number => (c.op !== 'add' ? 2 : c.what === 'table' ? 0 : c.what === 'chain' || c.what === 'set' ? 1 : 2)
  return [0, 1, 2].flatMap((r) => commands.filter((c) => rank(c) === r))
}
