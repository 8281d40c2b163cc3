/**
 * Jump loops and fan-out (issue 10, item 8): a table whose jumps loop is refused when it is
 * compiled, as the kernel refuses to load it, naming the chains; a loop-free table whose jumps
 * fan out exponentially stops the walk with a typed error. Both in explore, sample and
 * upstream's tracer, and through `kpe trace --rules` as exit 2, each well under a second.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compile, createInterpreterState, explore, findJumpLoop, parseIptablesSave, RuleLoopError, RuleWalkLimitError, sample } from '../../../src/proxy/netfilter/index.js'
import { traceLikeUpstream } from '../../../src/proxy/iptables/index.js'
import { runKpe } from '../../helpers/cli.js'
import { FakeClock, seededRandom } from '../../helpers/seeded-random.js'
import { tempDir } from '../../helpers/temp-dirs.js'

const dump = (rules: readonly string[], chains: readonly string[]): string =>
  ['*nat', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ...chains.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT', ''].join('\n')

/** `-A KUBE-SERVICES -j KUBE-SERVICES` twice: 12 s and 3 GB before the fix. */
const selfLoop = dump(['-A PREROUTING -j KUBE-SERVICES', '-A KUBE-SERVICES -j KUBE-SERVICES', '-A KUBE-SERVICES -j KUBE-SERVICES'], ['KUBE-SERVICES'])
const twoChainLoop = dump(['-A PREROUTING -j KUBE-A', '-A KUBE-A -p tcp -j KUBE-B', '-A KUBE-B -g KUBE-A'], ['KUBE-A', 'KUBE-B'])
const fanOut = dump(['-A PREROUTING -j KUBE-C0', ...Array.from({ length: 29 }, (_, i) => [`-A KUBE-C${i} -j KUBE-C${i + 1}`, `-A KUBE-C${i} -j KUBE-C${i + 1}`]).flat()], Array.from({ length: 30 }, (_, i) => `KUBE-C${i}`))

const node = { localAddresses: new Set(['192.168.0.2']) }
const packet = { src: '10.0.0.5', dst: '10.96.0.1', proto: 'tcp' as const, dport: 80 }

function timed<T>(fn: () => T): { result: T | unknown; ms: number } {
  const t0 = Date.now()
  let result: T | unknown
  try {
    result = fn()
  } catch (e) {
    result = e
  }
  return { result, ms: Date.now() - t0 }
}

describe('jump loops are refused at compile time', () => {
  it.each([
    ['a chain jumping to itself twice', selfLoop, ['KUBE-SERVICES', 'KUBE-SERVICES']],
    ['two chains jumping (and going) to each other', twoChainLoop, ['KUBE-A', 'KUBE-B', 'KUBE-A']],
  ])('%s: RuleLoopError names the chains', (_label, text, chains) => {
    const table = parseIptablesSave(text)
    const { result, ms } = timed(() => compile(table))
    expect(result).toBeInstanceOf(RuleLoopError)
    expect((result as RuleLoopError).chains).toEqual(chains)
    expect((result as RuleLoopError).message).toContain(chains.join(' -> '))
    expect(ms).toBeLessThan(1000)
    expect(timed(() => explore(table, packet, node, { origin: 'external' })).result).toBeInstanceOf(RuleLoopError)
    expect(timed(() => traceLikeUpstream(table, { src: packet.src, dst: packet.dst, proto: 'tcp', dport: 80 }, [])).result).toBeInstanceOf(RuleLoopError)
  })

  it('a table that jumps to one chain from several places is not a loop', () => {
    const table = parseIptablesSave(dump(['-A PREROUTING -j KUBE-A', '-A PREROUTING -j KUBE-B', '-A KUBE-A -j KUBE-B', '-A KUBE-B -j DNAT --to-destination 10.244.0.2:80'], ['KUBE-A', 'KUBE-B']))
    expect(explore(table, packet, node, { origin: 'external' }).outcomes.length).toBeGreaterThan(0)
  })
})

describe('jumps that fan out stop with a typed error', () => {
  it('explore, sample and the upstream tracer each stop within a second', () => {
    const table = parseIptablesSave(fanOut)
    const compiled = compile(table)
    const e = timed(() => explore(compiled, packet, node, { origin: 'external' }))
    expect(e.result).toBeInstanceOf(RuleWalkLimitError)
    expect(e.ms).toBeLessThan(1000)
    const s = timed(() => sample(compiled, packet, node, { origin: 'external', state: createInterpreterState(), random: seededRandom(1), clock: new FakeClock() }))
    expect(s.result).toBeInstanceOf(RuleWalkLimitError)
    expect(s.ms).toBeLessThan(1000)
    const u = timed(() => traceLikeUpstream(table, { src: packet.src, dst: packet.dst, proto: 'tcp', dport: 80 }, []))
    expect(u.result).toBeInstanceOf(RuleWalkLimitError)
    expect(u.ms).toBeLessThan(1000)
  })
})

describe('findJumpLoop', () => {
  it('finds a loop exactly when some chain can reach itself (against a reachability closure)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(7), fc.nat(7)), { maxLength: 14 }), (edges) => {
      const jumps = new Map<string, string[]>()
      for (let i = 0; i < 8; i++) jumps.set(`C${i}`, [])
      for (const [a, b] of edges) jumps.get(`C${a}`)!.push(`C${b}`)
      const reach = (from: string): Set<string> => {
        const seen = new Set<string>()
        const todo = [...jumps.get(from)!]
        while (todo.length) { const c = todo.pop()!; if (!seen.has(c)) { seen.add(c); todo.push(...jumps.get(c)!) } }
        return seen
      }
      const hasLoop = [...jumps.keys()].some((c) => reach(c).has(c))
      const loop = findJumpLoop(jumps)
      expect(loop !== undefined).toBe(hasLoop)
      if (loop) {
        expect(loop[0]).toBe(loop[loop.length - 1])
        for (let i = 0; i + 1 < loop.length; i++) expect(jumps.get(loop[i]!)).toContain(loop[i + 1])
      }
    }), { seed: 10, numRuns: 500 })
  })
})

describe('kpe trace --rules on such tables', () => {
  const dir = tempDir('kpe-loop-')
  it.each([
    ['self loop', selfLoop, 'KUBE-SERVICES -> KUBE-SERVICES'],
    ['fan-out', fanOut, 'took more than'],
  ])('%s: exit 2 with the chains named, in under 5 s', async (label, text, want) => {
    const file = join(dir, `${label.replace(/\W/g, '-')}.dump`)
    writeFileSync(file, text)
    const t0 = Date.now()
    const r = await runKpe(['trace', '--rules', file, '--from', '10.0.0.5', '--to', '10.96.0.1:80'])
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(want)
  }, 10_000)
})
