/**
 * Fuzz suite against the real `kpe up` (issue 10): batches of hostile requests of every served
 * kind (wrong-typed and out-of-range fields, nulls, prototype keys, JSON patches with `__proto__`
 * paths, bodies of every content type, deep nesting). After each batch the process is alive, no
 * request got a 5xx, no simple (preflight-free) content type was written, every earlier object
 * reads back intact, a new Pod still gets scheduled, and `kubectl get` of every kind answers;
 * at the end `kpe up` restarts on the same data dir. Seeded; KPE_FUZZ_BATCHES and KPE_FUZZ_SEED
 * make the longer opt-in run (CI runs the default few batches, under a minute).
 */
import { request } from 'node:http'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fuzzKinds, fuzzRequest, mediaTypeOf, simpleRequestTypes, type FuzzKind, type FuzzRequest } from '../helpers/api-fuzz-requests.js'
import { hasKubectl, kubectlPath, startKpeUp, type KpeUp } from './kpe-up-process.js'

const seed = Number(process.env['KPE_FUZZ_SEED'] ?? 20261205)
const batches = Number(process.env['KPE_FUZZ_BATCHES'] ?? 4)
const perBatch = Number(process.env['KPE_FUZZ_REQUESTS'] ?? 150)

if (!hasKubectl) {
  if (process.env['CI']) throw new Error(`${kubectlPath} is missing, and CI is set: the API fuzz suite cannot be skipped`)
  console.warn(`skipping the API fuzz suite: ${kubectlPath} not found`)
}

interface Reply {
  readonly code: number
  readonly body: string
}

function send(base: URL, method: string, path: string, contentType: string | undefined, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Accept: 'application/json' }
    if (contentType !== undefined) headers['Content-Type'] = contentType
    if (body !== undefined) headers['Content-Length'] = body.length
    const req = request({ host: base.hostname, port: base.port, method, path, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)))
    req.on('error', reject)
    req.end(body)
  })
}

/** A name part unique per kind (core and events.k8s.io both have an Event). */
const slug = (k: FuzzKind): string => k.kubectlName.replace(/\./g, '-')
const collection = (k: FuzzKind): string => k.path.replace('{ns}', 'default')
const objectPath = (k: FuzzKind, name: string): string => `${collection(k)}/${name}`

/** Every leaf of `sent` is in `got` with the same value (the server may add defaults and status). */
function missingLeaves(sent: unknown, got: unknown, path = ''): string[] {
  if (sent !== null && typeof sent === 'object') {
    if (got === null || typeof got !== 'object') return [path]
    return Object.entries(sent).flatMap(([k, v]) => missingLeaves(v, (got as Record<string, unknown>)[k], Array.isArray(sent) ? `${path}[${k}]` : `${path}.${k}`))
  }
  return sent === got ? [] : [`${path}: sent ${JSON.stringify(sent)}, read ${JSON.stringify(got)}`]
}

/** What a baseline object must keep: everything sent but status (controllers own it). */
function kept(o: Record<string, unknown>): Record<string, unknown> {
  const { status: _status, ...rest } = o
  return rest
}

describe.skipIf(!hasKubectl)('API fuzz: hostile requests never take kpe up down or poison its store', () => {
  let up: KpeUp
  let api: URL
  const baseline = new Map<string, { kind: FuzzKind; sent: Record<string, unknown> }>()
  let nameCounter = 0

  const apiOf = (u: KpeUp): URL => new URL(/API server (http\S+)/.exec(u.summary)![1]!)

  async function createValid(k: FuzzKind, name: string): Promise<Reply> {
    return send(api, 'POST', collection(k), 'application/json', Buffer.from(JSON.stringify({ apiVersion: k.apiVersion, kind: k.kind, ...k.valid(name) })))
  }

  /** Victims are the objects PUT, PATCH and DELETE aim at; they are re-created when a batch deleted them. */
  async function ensureVictims(): Promise<void> {
    for (const k of fuzzKinds.filter((x) => x.writable)) {
      const r = await createValid(k, `victim-${slug(k)}`)
      if (r.code !== 201 && r.code !== 409) throw new Error(`cannot create the ${k.kind} victim: ${r.code} ${r.body}`)
    }
  }

  async function checkBaseline(): Promise<string[]> {
    const problems: string[] = []
    for (const [name, { kind, sent }] of baseline) {
      const r = await send(api, 'GET', objectPath(kind, name), undefined)
      if (r.code !== 200) problems.push(`${kind.kind} ${name}: GET answered ${r.code} ${r.body.slice(0, 200)}`)
      else problems.push(...missingLeaves(kept(sent), JSON.parse(r.body)).map((m) => `${kind.kind} ${name}: ${m}`))
    }
    return problems
  }

  async function checkKubectlGetEveryKind(u: KpeUp): Promise<string[]> {
    // one kubectl for all kinds: it exits non-zero, naming the kind, when any list fails
    const kinds = fuzzKinds.map((k) => k.kubectlName).join(',')
    const r = await u.kubectl('get', kinds, '-A')
    return r.code === 0 ? [] : [`kubectl get ${kinds} -A: exit ${r.code}: ${r.stderr.slice(0, 600)}`]
  }

  /** A prototype polluted with `unschedulable` leaves every node unschedulable: a new Pod must still land. */
  async function checkScheduling(batch: number): Promise<string[]> {
    const pods = fuzzKinds.find((k) => k.kind === 'Pod')!
    const name = `probe-${batch}`
    const created = await createValid(pods, name)
    if (created.code !== 201) return [`probe pod: create answered ${created.code} ${created.body.slice(0, 200)}`]
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      const r = await send(api, 'GET', objectPath(pods, name), undefined)
      if (r.code === 200 && (JSON.parse(r.body) as { spec?: { nodeName?: string } }).spec?.nodeName) {
        await send(api, 'DELETE', objectPath(pods, name), undefined)
        return []
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return [`probe pod ${name} was not scheduled within 10 s`]
  }

  async function fire(req: FuzzRequest): Promise<string | undefined> {
    const k = fuzzKinds[req.kind]!
    const name = `fz-${++nameCounter}`
    const victim = `victim-${slug(k)}`
    const body = req.method === 'POST' ? Buffer.from(req.body.toString('latin1').replaceAll('"NAME"', JSON.stringify(name)), 'latin1')
      : Buffer.from(req.body.toString('latin1').replaceAll('"NAME"', JSON.stringify(victim)), 'latin1')
    const path = req.method === 'POST' ? collection(k) : objectPath(k, victim)
    let r: Reply
    try {
      r = await send(api, req.method, path, req.contentType, body)
    } catch (e) {
      return `${req.describe}: no answer (${e instanceof Error ? e.message : String(e)})`
    }
    if (r.code >= 500) return `${req.describe}: answered ${r.code} ${r.body.slice(0, 300)}`
    if (r.code < 300 && req.method !== 'DELETE' && simpleRequestTypes.has(mediaTypeOf(req.contentType))) {
      return `${req.describe}: a ${req.contentType} body was accepted (${r.code}); browsers send that type cross-origin without a preflight`
    }
    return undefined
  }

  beforeAll(async () => {
    up = await startKpeUp(['fixtures/demo.yaml'])
    api = apiOf(up)
    for (const k of fuzzKinds.filter((x) => x.writable)) {
      const name = `base-${slug(k)}`
      const sent = { apiVersion: k.apiVersion, kind: k.kind, ...k.valid(name) }
      const r = await send(api, 'POST', collection(k), 'application/json', Buffer.from(JSON.stringify(sent)))
      if (r.code !== 201) throw new Error(`cannot create the ${k.kind} baseline: ${r.code} ${r.body}`)
      baseline.set(name, { kind: k, sent })
    }
  }, 60_000)

  afterAll(async () => {
    await up?.stop()
  })

  for (let b = 0; b < batches; b++) {
    it(`batch ${b + 1} of ${batches} (seed ${seed}): the server answers every request below 500 and keeps every object`, async () => {
      await ensureVictims()
      const requests = fc.sample(fc.array(fuzzRequest(), { minLength: perBatch, maxLength: perBatch }), { seed: seed + b, numRuns: 1 })[0]!
      const problems: string[] = []
      for (const req of requests) {
        const p = await fire(req)
        if (p) problems.push(p)
        if (up.child.exitCode !== null || up.child.signalCode !== null) {
          problems.push(`kpe up died (exit ${up.child.exitCode}, signal ${up.child.signalCode}) after: ${req.describe}`)
          break
        }
      }
      if (up.child.exitCode === null) {
        problems.push(...await checkBaseline(), ...await checkScheduling(b), ...await checkKubectlGetEveryKind(up))
      }
      expect(problems, `seed ${seed + b}: reproduce with KPE_FUZZ_SEED=${seed}`).toEqual([])
    }, 120_000)
  }

  it('kpe up restarts on the same data dir and every earlier object reads back intact', async () => {
    const code = await up.stop()
    expect(code).toBe(0)
    up = await startKpeUp([], [], { dataDir: up.dataDir })
    api = apiOf(up)
    expect(await checkBaseline()).toEqual([])
    expect(await checkKubectlGetEveryKind(up)).toEqual([])
  }, 90_000)
})
