/**
 * compile() with a CompileCache (the InterpreterExecutor keeps one across applies) takes over the
 * rules, dispatch indexes and jump graph of chains a restore left untouched. Over random sequences
 * of partial and full restores (new chains, redeclared ones, -X, jump loops, nth and random
 * matches, indexed KUBE-SERVICES-like chains), it compiles exactly what a compile from scratch
 * does, and refuses the same loops with the same message. The executor's restore merge, which
 * checks the jumps of only the chains a restore wrote, fails exactly when a full check does.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compile, CompileCache, InterpreterExecutor, mergeRestore, parseIptablesSave,
  type CompiledRules, type RuleTable,
} from '../../../src/proxy/netfilter/index.js'

const chainNames = ['KUBE-SERVICES', 'KUBE-SVC-A', 'KUBE-SVC-B', 'KUBE-SEP-1', 'KUBE-SEP-2', 'KUBE-SEP-3', 'KUBE-MARK-MASQ']

const match = fc.oneof(
  fc.constant(''),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom('tcp', 'udp'), fc.constantFrom(80, 443)).map(([h, p, port]) => `-d 10.96.0.${h}/32 -p ${p} -m ${p} --dport ${port} `),
  fc.constantFrom('-m statistic --mode random --probability 0.50000000000 ', '-m statistic --mode nth --every 2 --packet 0 ', '-s 10.244.0.0/16 ', '-m comment --comment "x" '),
)
const order = ['PREROUTING', 'OUTPUT', ...chainNames]
/**
 * A rule of chain `name`: jumps go down the order (PREROUTING -> KUBE-SERVICES -> KUBE-SVC ->
 * KUBE-SEP -> KUBE-MARK-MASQ, as kube-proxy's do), with `wild` of them anywhere (loops, missing chains).
 */
function ruleIn(name: string, wild: number) {
  const below = order.slice(order.indexOf(name) + 1).filter((c) => c !== 'OUTPUT')
  const anywhere = fc.constantFrom(...chainNames, 'KUBE-MISSING')
  const down = below.length > 0 ? fc.constantFrom(...below) : undefined
  const jumpTo = wild > 0 ? fc.oneof({ arbitrary: down ?? anywhere, weight: down ? 80 : 1 }, { arbitrary: anywhere, weight: 1 }) : down
  const plain = [
    fc.integer({ min: 1, max: 9 }).map((h) => `-j DNAT --to-destination 10.244.1.${h}:8080`),
    fc.constantFrom('-j RETURN', '-j ACCEPT', '-j MARK --or-mark 0x4000', '-j MASQUERADE'),
  ]
  const target = jumpTo ? fc.oneof(jumpTo.map((c) => `-j ${c}`), jumpTo.map((c) => `-g ${c}`), ...plain) : fc.oneof(...plain)
  return fc.tuple(match, target).map(([m, t]) => `${m}${t}`)
}
const chain = fc.constantFrom(...order).chain((name) => fc.record({ name: fc.constant(name), rules: fc.array(ruleIn(name, 1), { maxLength: 20 }) }))
const restore = fc.record({
  chains: fc.array(chain, { minLength: 1, maxLength: 4 }),
  deleted: fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, { arbitrary: fc.array(fc.constantFrom(...chainNames), { maxLength: 2 }), weight: 1 }),
  flush: fc.oneof({ arbitrary: fc.constant('no-flush' as const), weight: 9 }, { arbitrary: fc.constant('flush' as const), weight: 1 }),
  keepRefused: fc.oneof(fc.constant(false), fc.constant(false), fc.constant(false), fc.constant(true)),
})

function restoreText(r: { chains: readonly { name: string; rules: readonly string[] }[]; deleted: readonly string[] }): string {
  const decl = r.chains.map((c) => (c.name === 'PREROUTING' || c.name === 'OUTPUT' ? `:${c.name} ACCEPT [0:0]` : `:${c.name} - [0:0]`))
  const rules = r.chains.flatMap((c) => c.rules.map((x) => `-A ${c.name} ${x}`))
  return ['*nat', ...decl, ...rules, ...r.deleted.map((d) => `-X ${d}`), 'COMMIT', ''].join('\n')
}

/** Everything a compile produces, as plain data (chains named, not linked). */
function shape(c: CompiledRules): unknown {
  const p = c.program
  return {
    nthCount: c.nthCount,
    code: Array.from(p.code), chainStart: Array.from(p.chainStart), strings: p.strings, probs: Array.from(p.probs), dnatText: p.dnatText, tests: p.tests,
    chains: p.chains.map((ch) => ({
      id: ch.id, table: ch.table, name: ch.name, builtin: ch.builtin, policy: ch.policy,
      index: ch.index ? { wildcard: Array.from(ch.index.wildcard), byPort: [...ch.index.byPort].map(([k, m]) => [k, [...m].map(([d, l]) => [d, Array.from(l)])]) } : undefined,
      rules: ch.rules.map((r) => ({ n: r.n, matches: r.matches, target: r.target.k === 'jump' || r.target.k === 'goto' ? { k: r.target.k, chain: r.target.chain.name } : r.target })),
    })),
    dispatch: p.dispatch.map((d) => (d ? JSON.stringify(d, (_, v: unknown) => (v instanceof Map ? [...v] : ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v)) : undefined)),
    nat: [...c.nat.chains.keys()], filter: [...c.filter.chains.keys()],
  }
}

function attempt(fn: () => CompiledRules): { ok: unknown } | { error: string } {
  try {
    return { ok: shape(fn()) }
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` }
  }
}

describe('compile with a CompileCache', () => {
  it('equals a compile from scratch over random sequences of restores', () => {
    // The first restore declares every chain (a full sync), the others a few.
    const full = fc.tuple(...order.map((name) => fc.array(ruleIn(name, 0), { maxLength: 20 }).map((rules) => ({ name, rules }))))
      .map((chains) => ({ chains, deleted: [], flush: 'flush' as const, keepRefused: true }))
    fc.assert(fc.property(full, fc.array(restore, { minLength: 1, maxLength: 12 }), fc.constantFrom(2, 16), (first, steps, minIndexedRules) => {
      const cache = new CompileCache(minIndexedRules)
      let table: RuleTable = { family: 'IPv4', tables: [] }
      for (const step of [first, ...steps]) {
        let input: RuleTable
        try {
          input = parseIptablesSave(restoreText(step), { source: 'test', family: 'IPv4' })
        } catch {
          continue // a chain declared twice: iptables-restore refuses the input
        }
        const merge = (opts?: { currentChecked: true }): RuleTable | string => {
          try {
            return mergeRestore(table, input, step.flush, opts)
          } catch (e) {
            return (e as Error).message
          }
        }
        // The executor's merge checks only the chains the input wrote; it fails and succeeds as a full check does.
        const next = merge({ currentChecked: true })
        expect(next).toEqual(merge())
        if (typeof next === 'string') continue // a jump to a missing chain or -X of a built-in: the restore fails, nothing changes
        const cached = attempt(() => compile(next, { cache }))
        const scratch = attempt(() => compile(next, { minIndexedRules }))
        expect(cached).toEqual(scratch)
        // A refused table is kept now and then, as an ensureRule that closes a loop would leave it.
        if ('ok' in cached || step.keepRefused) table = next
      }
    }), { seed: 41, numRuns: 400, interruptAfterTimeLimit: 30_000 })
  })

  it('a cached rule is compiled anew when the chain it jumps to is redeclared', () => {
    const cache = new CompileCache(16)
    const first = mergeRestore({ family: 'IPv4', tables: [] }, parseIptablesSave(restoreText({ chains: [{ name: 'PREROUTING', rules: ['-j KUBE-SVC-A'] }, { name: 'KUBE-SVC-A', rules: ['-j ACCEPT'] }], deleted: [] }), { source: 't', family: 'IPv4' }), 'no-flush')
    compile(first, { cache })
    const second = mergeRestore(first, parseIptablesSave(restoreText({ chains: [{ name: 'KUBE-SVC-A', rules: ['-j DROP'] }], deleted: [] }), { source: 't', family: 'IPv4' }), 'no-flush')
    const c = compile(second, { cache })
    const jump = c.nat.chains.get('PREROUTING')!.rules[0]!.target
    expect(jump.k === 'jump' && jump.chain).toBe(c.nat.chains.get('KUBE-SVC-A'))
    expect(c.nat.chains.get('KUBE-SVC-A')!.rules[0]!.target).toEqual({ k: 'drop' })
  })

  it('a compile with another dispatch threshold does not take over the cached indexes', () => {
    const rules = Array.from({ length: 4 }, (_, i) => `-d 10.96.0.${i + 1}/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A`)
    const table = mergeRestore({ family: 'IPv4', tables: [] }, parseIptablesSave(restoreText({ chains: [{ name: 'KUBE-SERVICES', rules }, { name: 'KUBE-SVC-A', rules: ['-j ACCEPT'] }], deleted: [] }), { source: 't', family: 'IPv4' }), 'no-flush')
    const cache = new CompileCache(16)
    expect(compile(table, { cache }).nat.chains.get('KUBE-SERVICES')!.index).toBeUndefined()
    expect(shape(compile(table, { cache, minIndexedRules: 2 }))).toEqual(shape(compile(table, { minIndexedRules: 2 })))
    expect(compile(table, { cache, minIndexedRules: 2 }).nat.chains.get('KUBE-SERVICES')!.index).toBeDefined()
  })

  it('an InterpreterExecutor\'s partial restore compiles only the chains it wrote', async () => {
    const ex = new InterpreterExecutor({ family: 'IPv4' })
    const sep = (n: number): { name: string; rules: string[] } => ({ name: `KUBE-SEP-${n}`, rules: [`-s 10.244.1.${n}/32 -j KUBE-MARK-MASQ`, `-p tcp -j DNAT --to-destination 10.244.1.${n}:8080`] })
    const reset = { flush: 'no-flush', counters: 'reset' } as const
    await ex.apply(restoreText({ chains: [{ name: 'KUBE-MARK-MASQ', rules: ['-j MARK --or-mark 0x4000'] }, { name: 'KUBE-SERVICES', rules: ['-d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-SEP-1'] }, sep(1), sep(2)], deleted: [] }), reset)
    const before = ex.compiled()
    await ex.apply(restoreText({ chains: [{ name: 'KUBE-SERVICES', rules: ['-d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-SEP-2'] }, sep(2)], deleted: [] }), reset)
    const after = ex.compiled()
    const ruleOf = (c: CompiledRules, chain: string, i: number) => c.nat.chains.get(chain)!.rules[i]!
    // KUBE-SEP-1 was left alone: its compiled matches and DNAT target are taken over, not parsed again.
    expect(ruleOf(after, 'KUBE-SEP-1', 1).matches).toBe(ruleOf(before, 'KUBE-SEP-1', 1).matches)
    expect(ruleOf(after, 'KUBE-SEP-1', 1).target).toBe(ruleOf(before, 'KUBE-SEP-1', 1).target)
    expect(ruleOf(after, 'KUBE-SEP-2', 1).target).not.toBe(ruleOf(before, 'KUBE-SEP-2', 1).target)
    expect(shape(after)).toEqual(shape(compile(ex.table())))
  })

  it('the InterpreterExecutor refuses a restore that closes a loop through unchanged chains, and keeps its table', async () => {
    const ex = new InterpreterExecutor({ family: 'IPv4' })
    await ex.apply(restoreText({ chains: [{ name: 'PREROUTING', rules: ['-j KUBE-SVC-A'] }, { name: 'KUBE-SVC-A', rules: ['-j KUBE-SEP-1'] }, { name: 'KUBE-SEP-1', rules: ['-j KUBE-SEP-2'] }, { name: 'KUBE-SEP-2', rules: ['-j ACCEPT'] }], deleted: [] }), { flush: 'no-flush', counters: 'reset' })
    const before = ex.table()
    await expect(ex.apply(restoreText({ chains: [{ name: 'KUBE-SEP-2', rules: ['-j KUBE-SVC-A'] }], deleted: [] }), { flush: 'no-flush', counters: 'reset' }))
      .rejects.toThrow('rule loop: KUBE-SVC-A -> KUBE-SEP-1 -> KUBE-SEP-2 -> KUBE-SVC-A')
    expect(ex.table()).toBe(before)
    expect(shape(ex.compiled())).toEqual(shape(compile(before)))
  })
})
