import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { checkDuplicates, emptyManifestSet, loadManifestText } from '../../src/api/index.js'
import { InputError, UsageError } from '../../src/errors.js'
import { buildNftablesRules } from '../../src/proxy/nftables/index.js'
import { buildNodeRules } from '../../src/proxy/node-rules/index.js'
import { clusterObjects, nodeProxierInput, selectNodeName } from '../../src/proxy/model/index.js'
import { parseAllDocuments } from 'yaml'

/** The pure path behind `kpe rules -f` / `kpe trace -f`: load, validate, build both dataplanes for every node. */
function rulesFromText(text: string): void {
  const set = loadManifestText(text, 'mutated.yaml', emptyManifestSet())
  checkDuplicates(set)
  const objects = clusterObjects(set)
  for (const node of objects.nodes.length > 0 ? objects.nodes.map((n) => n.metadata.name ?? '') : [undefined]) {
    for (const family of ['IPv4', 'IPv6'] as const) {
      buildNodeRules({ manifests: set, ...(node ? { nodeName: node } : {}), ipFamily: family })
      buildNftablesRules(nodeProxierInput(objects, undefined, selectNodeName(objects, undefined, node), family))
    }
  }
}

const fixtures = ['static/demo', 'session-affinity', 'dual-stack', 'loadbalancer-source-ranges', 'external-ips', 'terminating-rollout'].map((f) => `fixtures/${f}.yaml`).map((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as unknown))

type Path = (string | number)[]

/** Every path to a value inside the documents (objects and arrays included). */
function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at)
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out))
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out)
  return out
}

const oddValue = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 65536, 2 ** 31, 2 ** 53, -(2 ** 63), '', 'x', '10.0.0.0/33', '0.0.0.0', '::', '999.1.1.1', [], {}, [null], [1], { a: null }),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
)

type Mutation = { readonly pick: number; readonly op: 'set' | 'delete' | 'set-key'; readonly value: unknown; readonly key: string }
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('set', 'set', 'delete', 'set-key'),
  value: oddValue,
  key: fc.constantFrom('__proto__', 'constructor', 'status', 'spec', 'ports', 'ip', 'nmae'),
})

function mutate(doc: unknown, m: Mutation): unknown {
  const root = structuredClone(doc)
  const paths = pathsOf(root).filter((p) => p.length > 0)
  const path = paths[m.pick % paths.length]!
  let parent = root as Record<string | number, unknown>
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>
  const last = path.at(-1)!
  if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1)
    else delete parent[last]
  } else if (m.op === 'set-key' && typeof parent[last] === 'object' && parent[last] !== null && !Array.isArray(parent[last])) {
    Object.defineProperty(parent[last], m.key, { value: m.value, enumerable: true, writable: true, configurable: true })
  } else parent[last] = m.value
  return root
}

describe('mutated manifests never make the rules path throw anything but an input error (issue 10 item 8)', () => {
  it.each(fixtures.map((docs, i) => [i, docs] as const))('fixture %i', (_i, docs) => {
    fc.assert(
      fc.property(fc.nat({ max: docs.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const mutated = docs.map((d, i) => (i === which ? mutations.reduce(mutate, d) : d))
        const text = mutated.map((d) => JSON.stringify(d)).join('\n---\n')
        const started = performance.now()
        try {
          rulesFromText(text)
        } catch (e) {
          if (!(e instanceof InputError || e instanceof UsageError)) {
            throw new Error(`${e instanceof Error ? e.constructor.name : typeof e} for mutations ${JSON.stringify(mutations)}`, { cause: e })
          }
        }
        expect(performance.now() - started).toBeLessThan(2_000)
        expect(({} as Record<string, unknown>)['ip']).toBeUndefined()
      }),
      { seed: 20261206, numRuns: Number(process.env['KPE_FUZZ_RUNS'] ?? 200), interruptAfterTimeLimit: process.env['KPE_FUZZ_RUNS'] ? 600_000 : 20_000 },
    )
  })
})
