/**
 * Random Binding bodies, posted concurrently to pods/NAME/binding and to the deprecated bindings
 * resource, never get a 5xx and never bind a Pod twice: at most one 201 per Pod, and the Pod's
 * nodeName is that Binding's target. Seeded and bounded in time.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { apiServerPerFile } from '../helpers/api-server.js'

const api = apiServerPerFile()

const ns = (): string => `${api.url}/api/v1/namespaces/default`

/** A value of any JSON shape, or one of the few that matter to a Binding. */
const loose = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) })
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined })

interface Shot {
  readonly pod: 0 | 1
  readonly legacy: boolean
  readonly body: unknown
}

function shotArb(): fc.Arbitrary<(names: readonly [string, string], uids: readonly [string, string]) => Shot> {
  return fc.record({
    pod: fc.constantFrom(0 as const, 1 as const),
    legacy: fc.boolean(),
    // half the shots are well-formed Bindings, so that several race for one Pod
    mode: fc.constantFrom('valid', 'valid', 'valid', 'fuzzed', 'fuzzed', 'garbage'),
    node: fc.constantFrom('node-a', 'node-b', 'node-c.example'),
    raw: fc.jsonValue({ maxDepth: 3 }),
    kind: maybe(loose(fc.constantFrom('Binding', 'Pod'))),
    apiVersion: maybe(loose(fc.constantFrom('v1', 'v2'))),
    nameOf: fc.constantFrom('own', 'other', 'none', 'random'),
    randomName: fc.string({ maxLength: 10 }),
    uid: fc.constantFrom('none', 'own', 'wrong'),
    resourceVersion: maybe(loose(fc.constantFrom('1', '999999', ''))),
    annotations: maybe(loose(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }))),
    targetKind: maybe(loose(fc.constantFrom('Node', '', 'Service'))),
    targetName: maybe(loose(fc.constantFrom('node-a', 'node-b', '', 'Bad_Name'))),
    extra: maybe(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 })),
  }).map((r) => (names: readonly [string, string], uids: readonly [string, string]): Shot => {
    if (r.mode === 'garbage') return { pod: r.pod, legacy: r.legacy, body: r.raw }
    if (r.mode === 'valid') {
      const own = r.uid === 'own' ? { uid: uids[r.pod] } : {}
      return { pod: r.pod, legacy: r.legacy, body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: names[r.pod], ...own }, target: { kind: 'Node', name: r.node } } }
    }
    const name = r.nameOf === 'own' ? names[r.pod] : r.nameOf === 'other' ? names[1 - r.pod] : r.nameOf === 'random' ? r.randomName : undefined
    const uid = r.uid === 'own' ? uids[r.pod] : r.uid === 'wrong' ? 'not-a-uid' : undefined
    const metadata = { ...(name === undefined ? {} : { name }), ...(uid ? { uid } : {}), ...(r.resourceVersion === undefined ? {} : { resourceVersion: r.resourceVersion }), ...(r.annotations === undefined ? {} : { annotations: r.annotations }) }
    const target = { ...(r.targetKind === undefined ? {} : { kind: r.targetKind }), ...(r.targetName === undefined ? {} : { name: r.targetName }) }
    return {
      pod: r.pod, legacy: r.legacy,
      body: { ...r.extra, ...(r.kind === undefined ? {} : { kind: r.kind }), ...(r.apiVersion === undefined ? {} : { apiVersion: r.apiVersion }), metadata, target },
    }
  })
}

/** The Pod a 201 bound: the URL's for pods/NAME/binding, the body's name for bindings. */
function boundPod(shot: Shot, names: readonly [string, string]): string | undefined {
  if (!shot.legacy) return names[shot.pod]
  const meta = (shot.body as { metadata?: { name?: unknown } }).metadata
  return typeof meta?.name === 'string' ? meta.name : undefined
}

describe('random Binding bodies', () => {
  it('never get a 5xx and never bind a Pod twice', async () => {
    let run = 0
    const seen = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(fc.array(shotArb(), { minLength: 1, maxLength: 6 }), async (makers) => {
        const names = [`p${run}-a`, `p${run}-b`] as const
        run++
        const uids: string[] = []
        for (const name of names) {
          const r = await fetch(`${ns()}/pods`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'i' }] } }) })
          uids.push(((await r.json()) as { metadata: { uid: string } }).metadata.uid)
        }
        const shots = makers.map((m) => m(names, uids as unknown as readonly [string, string]))
        const answers = await Promise.all(shots.map(async (shot) => {
          const url = shot.legacy ? `${ns()}/bindings` : `${ns()}/pods/${names[shot.pod]}/binding`
          const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(shot.body) })
          return { shot, status: res.status, text: await res.text() }
        }))
        for (const a of answers) seen.set(a.status, (seen.get(a.status) ?? 0) + 1)
        for (const a of answers) expect(a.status, `${JSON.stringify(a.shot)} -> ${a.text.slice(0, 300)}`).toBeLessThan(500)
        const created = answers.filter((a) => a.status === 201)
        for (const name of names) {
          const wins = created.filter((a) => boundPod(a.shot, names) === name)
          expect(wins.length, `${name}: ${JSON.stringify(wins.map((w) => w.shot.body))}`).toBeLessThanOrEqual(1)
          const pod = (await (await fetch(`${ns()}/pods/${name}`)).json()) as { spec: { nodeName?: string } }
          const target = (wins[0]?.shot.body as { target?: { name?: string } } | undefined)?.target?.name
          expect(pod.spec.nodeName).toBe(target)
        }
      }),
      { seed: 17, numRuns: Number(process.env['KPE_FUZZ_RUNS'] ?? 200), interruptAfterTimeLimit: 15_000 },
    )
    expect(run).toBeGreaterThan(10)
    // the bodies reach every outcome: bound, refused as bound/precondition, invalid, malformed
    for (const code of [201, 400, 409, 422]) expect(seen.get(code) ?? 0, `${code} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0)
  }, 60_000)
})
