/**
 * fast-check arbitraries for the API fuzz suite: a valid object of every served kind, and hostile
 * requests built from them (wrong-typed and out-of-range fields, nulls, unknown and `__proto__`
 * keys, JSON patches with prototype paths, raw bodies of every content type, deep nesting).
 */
import fc from 'fast-check'
import { apiVersionOf, servedResources } from '../../src/api/resources.js'
import { minimal } from './minimal-objects.js'

export interface FuzzKind {
  readonly kind: string
  readonly apiVersion: string
  /** The collection path, `{ns}` standing for the namespace. */
  readonly path: string
  readonly namespaced: boolean
  /** kubectl's name for `kubectl get`. */
  readonly kubectlName: string
  readonly writable: boolean
  readonly valid: (name: string) => Record<string, unknown>
}

const container = { name: 'c', image: 'registry.k8s.io/e2e-test-images/agnhost:2.39', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080, name: 'http' }] }

const coreKinds: readonly FuzzKind[] = [
  { kind: 'Namespace', apiVersion: 'v1', path: '/api/v1/namespaces', namespaced: false, kubectlName: 'namespaces', writable: true,
    valid: (name) => ({ metadata: { name, labels: { fuzz: 'yes' } } }) },
  { kind: 'Node', apiVersion: 'v1', path: '/api/v1/nodes', namespaced: false, kubectlName: 'nodes', writable: true,
    valid: (name) => ({
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      spec: { unschedulable: true, taints: [{ key: 'fuzz', effect: 'NoSchedule' }] },
      status: { addresses: [{ type: 'InternalIP', address: '192.168.99.9' }, { type: 'Hostname', address: name }], conditions: [{ type: 'Ready', status: 'False' }] },
    }) },
  { kind: 'Pod', apiVersion: 'v1', path: '/api/v1/namespaces/{ns}/pods', namespaced: true, kubectlName: 'pods', writable: true,
    valid: (name) => ({ metadata: { name, labels: { app: 'fuzz' } }, spec: { containers: [container] } }) },
  { kind: 'Service', apiVersion: 'v1', path: '/api/v1/namespaces/{ns}/services', namespaced: true, kubectlName: 'services', writable: true,
    valid: (name) => ({
      metadata: { name, labels: { app: 'fuzz' } },
      spec: {
        type: 'LoadBalancer', selector: { app: 'fuzz' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
        externalIPs: ['192.0.2.10'], loadBalancerSourceRanges: ['203.0.113.0/24'], sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, externalTrafficPolicy: 'Local',
      },
    }) },
  { kind: 'Endpoints', apiVersion: 'v1', path: '/api/v1/namespaces/{ns}/endpoints', namespaced: true, kubectlName: 'endpoints', writable: false,
    valid: (name) => ({ metadata: { name }, subsets: [{ addresses: [{ ip: '10.244.0.9' }], ports: [{ port: 80 }] }] }) },
  { kind: 'ConfigMap', apiVersion: 'v1', path: '/api/v1/namespaces/{ns}/configmaps', namespaced: true, kubectlName: 'configmaps', writable: true,
    valid: (name) => ({ metadata: { name }, data: { key: 'value' } }) },
  { kind: 'Secret', apiVersion: 'v1', path: '/api/v1/namespaces/{ns}/secrets', namespaced: true, kubectlName: 'secrets', writable: true,
    valid: (name) => ({ metadata: { name }, type: 'Opaque', data: { key: 'dmFsdWU=' } }) },
  { kind: 'Event', apiVersion: 'v1', path: '/api/v1/namespaces/{ns}/events', namespaced: true, kubectlName: 'events', writable: true,
    valid: (name) => ({ metadata: { name }, involvedObject: { kind: 'Pod', namespace: 'default', name: 'x' }, reason: 'Fuzz', message: 'm', type: 'Normal', count: 1 }) },
  { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', path: '/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices', namespaced: true,
    kubectlName: 'endpointslices', writable: true,
    valid: (name) => ({
      metadata: { name, labels: { 'kubernetes.io/service-name': 'fuzz-orphan' } }, addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.0.99'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-a' }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }) },
  { kind: 'Deployment', apiVersion: 'apps/v1', path: '/apis/apps/v1/namespaces/{ns}/deployments', namespaced: true, kubectlName: 'deployments', writable: true,
    valid: (name) => ({
      metadata: { name },
      spec: {
        replicas: 0, selector: { matchLabels: { app: name }, matchExpressions: [{ key: 'app', operator: 'In', values: [name] }] },
        template: { metadata: { labels: { app: name } }, spec: { containers: [container] } },
      },
    }) },
  { kind: 'ReplicaSet', apiVersion: 'apps/v1', path: '/apis/apps/v1/namespaces/{ns}/replicasets', namespaced: true, kubectlName: 'replicasets', writable: true,
    valid: (name) => ({
      metadata: { name },
      spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [container] } } },
    }) },
]

/** Every other served kind kpe stores (without a controller), from its minimal valid body. */
// autoscaling/v1 HorizontalPodAutoscaler serves the v2 objects again (same store key, v2-shaped minimal body): fuzzed through v2.
const storedOnlyKinds: readonly FuzzKind[] = servedResources
  .filter((r) => Object.hasOwn(minimal, r.kind) && !(r.group === '' && r.kind === 'Event') && !(r.group === 'autoscaling' && r.version === 'v1') && r.verbs.includes('create'))
  .map((r) => ({
    kind: r.kind, apiVersion: apiVersionOf(r), namespaced: r.namespaced, writable: true,
    path: `/${r.group === '' ? 'api' : `apis/${r.group}`}/${r.version}${r.namespaced ? '/namespaces/{ns}' : ''}/${r.resource}`,
    kubectlName: r.group === '' ? r.resource : `${r.resource}.${r.group}`,
    valid: (name) => ({ metadata: { name, labels: { fuzz: 'yes' } }, ...structuredClone(minimal[r.kind]) }),
  }))

export const fuzzKinds: readonly FuzzKind[] = [...coreKinds, ...storedOnlyKinds]

export interface FuzzRequest {
  readonly method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Index into fuzzKinds. */
  readonly kind: number
  /** POST goes to the collection; the others to one victim object of the kind. */
  readonly contentType: string | undefined
  readonly body: Buffer
  readonly describe: string
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** Values that break a careless reader: wrong types, nulls, bounds, special addresses, prototype keys. */
const nastyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, 0, -1, 1, 1.5, 65536, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, true, false, '', 'x', ' ', '0', '-1', 'None',
    '0.0.0.0', '127.0.0.1', '::', '::1', '169.254.169.254', '224.0.0.1', '10.0.0.0/33', '10.0.0.0/8', '300.1.1.1', '1.2.3', 'Sticky',
    '__proto__', 'constructor', 'a'.repeat(300), 'x\ny\u001b[31m', [], [null], [1], ['x'], [{}], [[]], {}, { a: 1 }, JSON.parse('{"__proto__":{"unschedulable":true}}') as Json,
    { constructor: { prototype: { polluted: true } } }),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
)

/** Every path to a value inside `v` (objects and arrays included), as key lists. */
function pathsOf(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix]
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...prefix, i])))
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...prefix, k]))
  return out
}

function valueAt(root: Json, path: readonly (string | number)[]): Json {
  let cur: Json = root
  for (const k of path) cur = (cur as Record<string | number, Json>)[k]!
  return cur
}

function setAt(root: Json, path: readonly (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null
  const copy = structuredClone(root) as Record<string | number, Json>
  let cur = copy
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, Json>
  const last = path.at(-1)!
  if (value === undefined) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1)
    else delete cur[last]
  } else Object.defineProperty(cur, last, { value, enumerable: true, writable: true, configurable: true })
  return copy
}

/** Replicas stay small: a huge but valid count is a load test, not a robustness one. */
function bounded(path: readonly (string | number)[], v: Json): Json {
  return path.at(-1) === 'replicas' && typeof v === 'number' && v > 3 ? 2 : v
}

/** One mutation of a valid object: set a path to a nasty value, delete it, or add an unknown key. */
function mutated(base: Json): fc.Arbitrary<{ value: Json; describe: string }> {
  const paths = pathsOf(base).filter((p) => p.length > 0 && p[0] !== 'apiVersion' && p[0] !== 'kind' && !(p[0] === 'metadata' && p[1] === 'name'))
  const objectPaths = pathsOf(base).filter((p) => { const v = valueAt(base, p); return v !== null && typeof v === 'object' && !Array.isArray(v) })
  const unknownKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'unknownField', 'x')
  return fc.oneof(
    fc.tuple(fc.constantFrom(...paths), nastyValue).map(([path, v]) => ({ value: setAt(base, path, bounded(path, v)), describe: `${path.join('.')} = ${JSON.stringify(v)?.slice(0, 80)}` })),
    fc.constantFrom(...paths).map((path) => ({ value: setAt(base, path, undefined), describe: `delete ${path.join('.')}` })),
    fc.tuple(fc.constantFrom(...objectPaths), unknownKey, nastyValue).map(([path, key, v]) => ({ value: setAt(base, [...path, key], v), describe: `${[...path, key].join('.')} = ${JSON.stringify(v)?.slice(0, 80)}` })),
  )
}

/** A merge or strategic patch that sets one path of a valid object: `{spec: {ports: "x"}}`. */
function patchFragment(path: readonly (string | number)[], value: Json): Json {
  let out: Json = value
  for (const k of [...path].reverse()) {
    if (typeof k === 'number') out = [out]
    else {
      const o: Record<string, Json> = {}
      Object.defineProperty(o, k, { value: out, enumerable: true, writable: true, configurable: true })
      out = o
    }
  }
  return out
}

const pointer = (path: readonly (string | number)[]): string => path.map((k) => `/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')

const prototypePointer = fc.constantFrom('/__proto__/unschedulable', '/metadata/__proto__/polluted', '/constructor/prototype/polluted',
  '/spec/__proto__/unschedulable', '/__proto__', '/metadata/labels/__proto__', '/data/constructor')

export const bodyContentTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'text/plain',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'garbage/type', undefined] as const

/** Content types a browser may send cross-origin without a preflight: never a successful write. */
export const simpleRequestTypes = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'])

export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase()
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v))
}

function deepJson(depth: number): Buffer {
  return Buffer.from(`{"metadata":{"name":"deep"},"spec":${'['.repeat(depth)}${']'.repeat(depth)}}`)
}

export function fuzzRequest(): fc.Arbitrary<FuzzRequest> {
  return fc.nat(fuzzKinds.length - 1).chain((kindIndex) => {
    const k = fuzzKinds[kindIndex]!
    const base = { apiVersion: k.apiVersion, kind: k.kind, ...k.valid('NAME') } as Json
    const paths = pathsOf(base).filter((p) => p.length > 0 && p[0] !== 'apiVersion' && p[0] !== 'kind' && !(p[0] === 'metadata' && (p.length === 1 || p[1] === 'name')))
    const create = mutated(base).map((m): FuzzRequest => ({ method: 'POST', kind: kindIndex, contentType: 'application/json', body: json(m.value), describe: `create ${k.kind}: ${m.describe}` }))
    const update = mutated(base).map((m): FuzzRequest => ({ method: 'PUT', kind: kindIndex, contentType: 'application/json', body: json(m.value), describe: `update ${k.kind}: ${m.describe}` }))
    const merge = fc.tuple(fc.constantFrom(...paths), nastyValue, fc.constantFrom('application/merge-patch+json', 'application/strategic-merge-patch+json'))
      .map(([p, v, type]): FuzzRequest => ({ method: 'PATCH', kind: kindIndex, contentType: type, body: json(patchFragment(p, bounded(p, v))), describe: `${type} ${k.kind}: ${p.join('.')}` }))
    const jsonPatch = fc.tuple(fc.oneof(prototypePointer, fc.constantFrom(...paths).map(pointer)), fc.constantFrom('add', 'replace', 'remove', 'move', 'copy', 'test'), nastyValue, prototypePointer)
      .map(([path, op, value, from]): FuzzRequest => ({
        method: 'PATCH', kind: kindIndex, contentType: 'application/json-patch+json', body: json([{ op, path, from, value }]), describe: `json-patch ${k.kind}: ${op} ${path}`,
      }))
    const raw = fc.tuple(fc.constantFrom(...bodyContentTypes), fc.oneof(
      { weight: 3, arbitrary: fc.constant({ body: json(base), what: 'a valid object' }) },
      mutated(base).map((m) => ({ body: json(m.value), what: m.describe })),
      fc.constantFrom(10_000, 100_000).map((d) => ({ body: deepJson(d), what: `JSON nested ${d} deep` })),
      fc.uint8Array({ maxLength: 200 }).map((b) => ({ body: Buffer.from(b), what: 'random bytes' })),
      fc.constant({ body: Buffer.from('{"metadata":{"name":'), what: 'truncated JSON' }),
      fc.constant({ body: Buffer.from('metadata=x&spec=y'), what: 'form body' }),
    ), fc.constantFrom<'POST' | 'PUT'>('POST', 'PUT')).map(([type, b, method]): FuzzRequest => ({
      method, kind: kindIndex, contentType: type, body: b.body, describe: `${method} ${k.kind} as ${type ?? '(no type)'}: ${b.what}`,
    }))
    const deleteBody = nastyValue.map((v): FuzzRequest => ({
      method: 'DELETE', kind: kindIndex, contentType: 'application/json', body: json({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: v, propagationPolicy: v, preconditions: v }),
      describe: `delete ${k.kind} with options ${JSON.stringify(v)?.slice(0, 60)}`,
    }))
    return fc.oneof({ weight: 4, arbitrary: create }, { weight: 3, arbitrary: update }, { weight: 3, arbitrary: merge },
      { weight: 3, arbitrary: jsonPatch }, { weight: 2, arbitrary: raw }, { weight: 1, arbitrary: deleteBody })
  })
}
