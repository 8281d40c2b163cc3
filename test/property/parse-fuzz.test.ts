import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ParseError } from '../../src/errors.js'
import { parseIptablesSave, renderIptablesRestore } from '../../src/proxy/netfilter/index.js'
import { flowsDir } from '../helpers/flows.js'
import { ruleTableArb } from './arbitraries.js'

const seedDump = readFileSync(path.join(flowsDir(), 'trace-packet', 'input.iptables'), 'utf8')

/** Parses, and fails the property if anything but a ParseError escapes. */
function parsesOrParseError(text: string): void {
  try {
    parseIptablesSave(text)
  } catch (e) {
    if (!(e instanceof ParseError)) throw new Error(`non-ParseError for input ${JSON.stringify(text.slice(0, 200))}`, { cause: e })
    expect(e.line).toBeGreaterThanOrEqual(1)
  }
}

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'drop-token'; line: number; token: number }
  | { kind: 'bytes'; at: number; text: string }
  | { kind: 'dup-line'; line: number }
  | { kind: 'swap-lines'; a: number; b: number }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((at) => ({ kind: 'truncate' as const, at })),
  fc.tuple(fc.nat(), fc.nat()).map(([line, token]) => ({ kind: 'drop-token' as const, line, token })),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 8 })).map(([at, text]) => ({ kind: 'bytes' as const, at, text })),
  fc.tuple(fc.nat(), fc.constantFrom('"', '!', '\\', ' -m', ' --dport', ' -j', '[', ':', '*nat\n', 'COMMIT\n', '\n', ' 0x', '/')).map(([at, text]) => ({ kind: 'bytes' as const, at, text })),
  fc.nat().map((line) => ({ kind: 'dup-line' as const, line })),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => ({ kind: 'swap-lines' as const, a, b })),
)

function mutate(text: string, ms: readonly Mutation[]): string {
  for (const m of ms) {
    const lines = text.split('\n')
    switch (m.kind) {
      case 'truncate':
        text = text.slice(0, m.at % (text.length + 1))
        break
      case 'drop-token': {
        const i = m.line % lines.length
        const toks = lines[i]!.split(' ')
        toks.splice(m.token % toks.length, 1)
        lines[i] = toks.join(' ')
        text = lines.join('\n')
        break
      }
      case 'bytes': {
        const at = m.at % (text.length + 1)
        text = text.slice(0, at) + m.text + text.slice(at)
        break
      }
      case 'dup-line': {
        const i = m.line % lines.length
        lines.splice(i, 0, lines[i]!)
        text = lines.join('\n')
        break
      }
      case 'swap-lines': {
        const a = m.a % lines.length
        const b = m.b % lines.length
        ;[lines[a], lines[b]] = [lines[b]!, lines[a]!]
        text = lines.join('\n')
        break
      }
    }
  }
  return text
}

describe('parseIptablesSave fuzzing', () => {
  it('random text never throws anything but ParseError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), parsesOrParseError), { numRuns: 3000 })
  })
  it('random lines in a table never throw anything but ParseError', () => {
    const lineArb = fc.oneof(fc.string({ maxLength: 60 }), fc.array(fc.constantFrom('-A', 'X', '-m', 'tcp', '-p', '--dport', '80', '!', '-j', 'DNAT', '--to-destination', '"a b"', 'comment', '--comment', 'recent', '--set', 'mark', '--mark', '0x4000/0x4000', 'MARK', '--or-mark', '-s', '10.0.0.0/8', 'statistic', '--mode', 'random', '--probability', '0.5', 'nth', '--every', '0', '-g', '[1:2]', '-X', ':X', '-', '[0:0]'), { maxLength: 12 }).map((t) => t.join(' ')))
    fc.assert(fc.property(fc.array(lineArb, { maxLength: 8 }), (lines) => parsesOrParseError(`*nat\n${lines.join('\n')}\nCOMMIT\n`)), { numRuns: 3000 })
  })
  it('mutated real and generated dumps never throw anything but ParseError', () => {
    const seed = fc.oneof(fc.constant(seedDump), ruleTableArb.map(renderIptablesRestore))
    fc.assert(fc.property(seed, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (text, ms) => parsesOrParseError(mutate(text, ms))), { numRuns: 3000 })
  })
})
