import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../src/apiserver/index.js'
import { openApiGroupVersion, openApiIndex, openApiV2, openApiV2Form, openApiV2Protobuf } from '../../../src/apiserver/openapi.js'
import { decodeOpenApiV2, openApiV2ProtobufContentType, openApiV2ProtobufType } from '../../../src/apiserver/openapi-v2-protobuf.js'
import { apiVersionOf, servedGroupVersions, servedResources } from '../../../src/api/resources.js'
import { decodeStructured } from '../../../src/api/schema/structural-decode.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'

type Schema = Record<string, unknown>
type Doc = { components: { schemas: Record<string, Schema> }; paths: Record<string, unknown> }

const doc = (group: string, version: string): Doc => openApiGroupVersion(group, version) as Doc
const gvkOf = (s: Schema) => s['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined
const props = (s: Schema | undefined) => (s?.['properties'] ?? {}) as Record<string, Schema>
const refName = (s: Schema): string | undefined => {
  const ref = (s['$ref'] ?? ((s['allOf'] as Schema[] | undefined)?.[0]?.['$ref'])) as string | undefined
  return ref?.split('/').at(-1)
}

/** Every string-valued "description" keyword under `v` (a property named "description" holds an object). */
function descriptions(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(descriptions)
  if (typeof v !== 'object' || v === null) return []
  return Object.entries(v).flatMap(([k, x]) => (k === 'description' && typeof x === 'string' ? [x] : descriptions(x)))
}

describe('OpenAPI v3 documents', () => {
  it('have a schema with its group-version-kind for every served kind and its List', () => {
    for (const r of servedResources) {
      const schemas = Object.values(doc(r.group, r.version).components.schemas)
      const own = schemas.filter((s) => gvkOf(s)?.some((g) => g.group === r.group && g.version === r.version && g.kind === r.kind))
      expect(own, `${apiVersionOf(r)} ${r.kind}`).toHaveLength(1)
      expect(Object.keys(props(own[0])), r.kind).toEqual(expect.arrayContaining(['apiVersion', 'kind', 'metadata']))
      if (r.verbs.includes('list')) {
        expect(schemas.some((s) => gvkOf(s)?.some((g) => g.kind === `${r.kind}List` && g.group === r.group)), `${r.kind}List`).toBe(true)
      }
    }
  })

  it('resolve every reference inside their own document', () => {
    for (const gv of servedGroupVersions()) {
      const d = doc(gv.group, gv.version)
      const text = JSON.stringify(d)
      for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
        expect(d.components.schemas[m[1]!], `${gv.group}/${gv.version}: ${m[1]}`).toBeDefined()
      }
    }
  })

  it('carry field types, required fields, merge keys, list types, int-or-string, date-time and raw extensions', () => {
    const apps = doc('apps', 'v1')
    const s = apps.components.schemas
    expect(s['io.k8s.api.apps.v1.DeploymentSpec']?.['required']).toEqual(['selector', 'template'])
    const containers = props(s['io.k8s.api.core.v1.PodSpec'])['containers']!
    expect(containers).toMatchObject({
      type: 'array', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
    })
    expect(refName(containers['items'] as Schema)).toBe('io.k8s.api.core.v1.Container')
    expect(props(s['io.k8s.api.core.v1.Container'])['image']).toEqual({ type: 'string' })
    expect(props(s['io.k8s.api.apps.v1.DeploymentSpec'])['replicas']).toEqual({ type: 'integer', format: 'int32' })
    expect(props(s['io.k8s.api.apps.v1.DeploymentSpec'])['strategy']).toMatchObject({ 'x-kubernetes-patch-strategy': 'retainKeys' })
    expect(s['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({ type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true })
    expect(s['io.k8s.apimachinery.pkg.apis.meta.v1.Time']).toEqual({ type: 'string', format: 'date-time' })
    expect(s['io.k8s.apimachinery.pkg.api.resource.Quantity']).toEqual({ type: 'string' })
    expect(s['io.k8s.apimachinery.pkg.runtime.RawExtension']).toMatchObject({ 'x-kubernetes-preserve-unknown-fields': true })
    expect(props(s['io.k8s.api.core.v1.PodSpec'])['nodeSelector']).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } })
    // Volume's embedded VolumeSource sits inline, as in the JSON form.
    expect(Object.keys(props(s['io.k8s.api.core.v1.Volume']))).toEqual(expect.arrayContaining(['name', 'configMap', 'emptyDir']))
    expect(gvkOf(s['io.k8s.api.autoscaling.v1.Scale']!)).toEqual([{ group: 'autoscaling', version: 'v1', kind: 'Scale' }])
  })

  it('carry no prose: no schema has a description', () => {
    for (const gv of servedGroupVersions()) expect(descriptions(doc(gv.group, gv.version).components)).toEqual([])
    expect(descriptions((openApiV2() as { definitions: unknown }).definitions)).toEqual([])
  })

  it('are listed in the index with a content hash that changes with the document', () => {
    const index = openApiIndex() as { paths: Record<string, { serverRelativeURL: string }> }
    expect(Object.keys(index.paths).sort()).toEqual(servedGroupVersions().map((gv) => (gv.group === '' ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`)).sort())
    const hashes = new Set(Object.values(index.paths).map((p) => p.serverRelativeURL.split('hash=')[1]))
    expect(hashes.size).toBe(Object.keys(index.paths).length)
  })

  it('describe objects the structural decoder accepts: values generated from a schema decode without type errors', () => {
    // The two views of the descriptor (OpenAPI for clients, the decoder for the server) must agree.
    const apps = doc('apps', 'v1')
    const arb = (s: Schema, depth: number): fc.Arbitrary<unknown> => {
      const target = refName(s)
      // Quantity and Duration are strings with a grammar the schema does not spell out.
      if (target === 'io.k8s.apimachinery.pkg.api.resource.Quantity') return fc.constantFrom('1', '100m', '1Gi')
      if (target === 'io.k8s.apimachinery.pkg.apis.meta.v1.Duration') return fc.constant('5s')
      if (target) return arb(apps.components.schemas[target]!, depth)
      if (s['x-kubernetes-int-or-string']) return fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom('25%', 'http'))
      if (s['format'] === 'date-time') return fc.constant('2026-01-02T03:04:05Z')
      if (s['x-kubernetes-preserve-unknown-fields']) return fc.constant({ any: ['thing'] })
      switch (s['type']) {
        case 'string': return s['format'] === 'byte' ? fc.constant('aGk=') : fc.constantFrom('a', '1', 'x-y')
        case 'integer': return fc.integer({ min: 0, max: 1000 })
        case 'number': return fc.double({ min: 0, max: 10, noNaN: true })
        case 'boolean': return fc.boolean()
        case 'array': return depth > 4 ? fc.constant([]) : fc.array(arb(s['items'] as Schema, depth + 1), { maxLength: 2 })
        default: {
          if (s['additionalProperties']) return depth > 4 ? fc.constant({}) : fc.dictionary(fc.constantFrom('k1', 'k2'), arb(s['additionalProperties'] as Schema, depth + 1), { maxKeys: 2 })
          const entries = Object.entries(props(s))
          if (depth > 4 || entries.length === 0) return fc.constant({})
          return fc.record(Object.fromEntries(entries.map(([k, v]) => [k, arb(v, depth + 1)])), { requiredKeys: [] })
        }
      }
    }
    fc.assert(fc.property(arb(apps.components.schemas['io.k8s.api.apps.v1.Deployment']!, 0), (value) => {
      const r = decodeStructured('k8s.io.api.apps.v1.Deployment', value)
      expect(r.typeErrors).toEqual([])
      expect(r.unknownFields).toEqual([])
    }), { seed: 12, numRuns: 60, interruptAfterTimeLimit: 10_000 })
  })
})

describe('OpenAPI v2', () => {
  it('defines every served kind with its GVK and references definitions', () => {
    const v2 = openApiV2() as { swagger: string; definitions: Record<string, Schema> }
    expect(v2.swagger).toBe('2.0')
    const gvks = Object.values(v2.definitions).flatMap((s) => gvkOf(s) ?? [])
    for (const r of servedResources) expect(gvks, r.kind).toContainEqual({ group: r.group, version: r.version, kind: r.kind })
    const text = JSON.stringify(v2)
    expect(text).not.toContain('#/components/')
    for (const m of text.matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g)) expect(v2.definitions[m[1]!], m[1]).toBeDefined()
  })

  it('is offered as gnostic protobuf to kubectl and as JSON to others', () => {
    expect(openApiV2Form(openApiV2ProtobufType)).toBe('protobuf')
    expect(openApiV2Form('application/json')).toBe('json')
    expect(openApiV2Form(`${openApiV2ProtobufType}, application/json;q=0.9`)).toBe('protobuf')
    expect(openApiV2Form(undefined)).toBe('json')
    expect(openApiV2Form('*/*')).toBe('json')
    expect(openApiV2Form('text/html')).toBeUndefined()
  })

  it('encodes to protobuf without losing a definition, a type, a reference or an extension', () => {
    const json = openApiV2() as { definitions: Record<string, Schema> }
    const pb = decodeOpenApiV2(openApiV2Protobuf()) as { swagger: string; definitions: { additionalProperties: { name: string; value: Record<string, unknown> }[] } }
    expect(pb.swagger).toBe('2.0')
    const byName = new Map(pb.definitions.additionalProperties.map((d) => [d.name, d.value]))
    expect([...byName.keys()].sort()).toEqual(Object.keys(json.definitions).sort())
    const spec = byName.get('io.k8s.api.apps.v1.DeploymentSpec') as { required: string[]; properties: { additionalProperties: { name: string; value: Record<string, unknown> }[] } }
    expect(spec.required).toEqual(['selector', 'template'])
    const template = spec.properties.additionalProperties.find((p) => p.name === 'template')!.value
    expect(template).toEqual({ ref: '#/definitions/io.k8s.api.core.v1.PodTemplateSpec' })
    const podSpec = byName.get('io.k8s.api.core.v1.PodSpec') as { properties: { additionalProperties: { name: string; value: Record<string, unknown> }[] } }
    const containers = podSpec.properties.additionalProperties.find((p) => p.name === 'containers')!.value
    expect(containers).toMatchObject({ type: { value: ['array'] }, items: { schema: [{ ref: '#/definitions/io.k8s.api.core.v1.Container' }] } })
    expect(containers['vendorExtension']).toContainEqual({ name: 'x-kubernetes-patch-merge-key', value: { yaml: '"name"' } })
    const deployment = byName.get('io.k8s.api.apps.v1.Deployment') as { vendorExtension: { name: string; value: { yaml: string } }[] }
    expect(JSON.parse(deployment.vendorExtension.find((e) => e.name === 'x-kubernetes-group-version-kind')!.value.yaml)).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }])
  })
})

describe('OpenAPI over HTTP', () => {
  let server: ApiServer | undefined
  let store: VersionedStore | undefined
  afterEach(async () => {
    await server?.close()
    await store?.close()
  })

  it('serves /openapi/v2 as JSON and as protobuf, answers other forms 406, and serves v3 documents with schemas', async () => {
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0 })
    const v2 = await fetch(`${server.url}/openapi/v2`, { headers: { Accept: 'application/json' } })
    expect(v2.status).toBe(200)
    expect(((await v2.json()) as { swagger: string }).swagger).toBe('2.0')
    const pb = await fetch(`${server.url}/openapi/v2`, { headers: { Accept: openApiV2ProtobufType } })
    expect(pb.status).toBe(200)
    expect(pb.headers.get('content-type')).toBe(openApiV2ProtobufContentType)
    expect(decodeOpenApiV2(new Uint8Array(await pb.arrayBuffer()))).toMatchObject({ swagger: '2.0' })
    const html = await fetch(`${server.url}/openapi/v2`, { headers: { Accept: 'text/html' } })
    expect(html.status).toBe(406)
    expect(await html.json()).toMatchObject({ kind: 'Status', reason: 'NotAcceptable', code: 406 })
    const v3 = (await (await fetch(`${server.url}/openapi/v3/apis/batch/v1`)).json()) as Doc
    expect(Object.keys(props(v3.components.schemas['io.k8s.api.batch.v1.CronJobSpec']))).toEqual(expect.arrayContaining(['schedule', 'jobTemplate']))
  })
})
