import { describe, expect, it } from 'vitest'
import { crdResources, crdStatus, defaultCrd, validateCrd } from '../../../src/apiserver/crd/definition.js'
import { parseSimpleJsonPath, setAtJsonPath, valueAtJsonPath } from '../../../src/apiserver/crd/json-path.js'
import { customResourcePrinter } from '../../../src/apiserver/crd/printer-columns.js'
import { aggregatedDiscovery, apiResourceList } from '../../../src/apiserver/discovery.js'
import { openApiGroupVersion } from '../../../src/apiserver/openapi.js'
import { parsePath } from '../../../src/apiserver/request-path.js'
import { ResourceCatalogue, servedResources } from '../../../src/api/resources.js'
import type { KubeObject } from '../../../src/store/index.js'

type Json = Record<string, any>

function widgets(): Json {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.org' },
    spec: {
      group: 'example.org', scope: 'Cluster', names: { plural: 'widgets', kind: 'Widget', shortNames: ['wd'], categories: ['toys'] },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object' } } } }, subresources: { status: {}, scale: { specReplicasPath: '.spec.n', statusReplicasPath: '.status.n' } } },
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
        { name: 'v1alpha1', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
      ],
    },
  }
}

function fieldsOf(crd: Json): string[] {
  defaultCrd(crd)
  return validateCrd(crd).list.map((e) => e.field).sort()
}

describe('CRD defaulting and validation', () => {
  it('defaults singular and listKind from kind, and accepts a valid CRD', () => {
    const crd = widgets()
    expect(fieldsOf(crd)).toEqual([])
    expect(crd['spec']['names']).toMatchObject({ singular: 'widget', listKind: 'WidgetList' })
    expect(crd['spec']['conversion']).toEqual({ strategy: 'None' })
  })

  it('names every field kube-apiserver checks', () => {
    const crd = widgets()
    crd['spec']['names']['plural'] = 'Widgets'
    crd['spec']['versions'][1]['storage'] = true
    crd['spec']['versions'][2]['name'] = 'v1'
    crd['spec']['versions'][0]['schema']['openAPIV3Schema']['type'] = 'array'
    expect(fieldsOf(crd)).toEqual(['metadata.name', 'spec.names.plural', 'spec.versions', 'spec.versions[0].schema.openAPIV3Schema.type', 'spec.versions[2].name'])
  })

  it('needs a served version, a group with a dot, a kind, and no conversion webhook', () => {
    const crd = widgets()
    crd['metadata']['name'] = 'widgets.example'
    crd['spec']['group'] = 'example'
    delete crd['spec']['names']['kind']
    crd['spec']['conversion'] = { strategy: 'Webhook' }
    for (const v of crd['spec']['versions']) v['served'] = false
    expect(fieldsOf(crd)).toEqual(['spec.conversion.strategy', 'spec.group', 'spec.names.kind', 'spec.names.listKind', 'spec.names.singular', 'spec.versions'])
  })

  it('sets acceptedNames and the NamesAccepted and Established conditions', () => {
    const crd = widgets()
    defaultCrd(crd)
    const status = crdStatus(crd, '2026-01-01T00:00:00Z') as Json
    expect(status['acceptedNames']).toEqual(crd['spec']['names'])
    expect(status['conditions'].map((c: Json) => `${c['type']}=${c['status']}`)).toEqual(['NamesAccepted=True', 'Established=True'])
    expect(status['storedVersions']).toEqual(['v1'])
  })
})

describe('what a CRD serves', () => {
  const catalogue = new ResourceCatalogue(servedResources)
  const crd = widgets()
  defaultCrd(crd)
  catalogue.define('widgets.example.org', crdResources(crd))

  it('one entry per served version, with its subresources, names and scope', () => {
    const rs = catalogue.resources.filter((r) => r.group === 'example.org')
    expect(rs.map((r) => [r.version, r.subresources])).toEqual([['v1', ['status', 'scale']], ['v1beta1', []]])
    expect(rs[0]).toMatchObject({ resource: 'widgets', singular: 'widget', kind: 'Widget', namespaced: false, shortNames: ['wd'], categories: ['toys'] })
    expect(rs.every((r) => r.custom?.storageVersion === 'v1')).toBe(true)
  })

  it('routes, discovers and documents them, and forgets them when the CRD goes', () => {
    const gen = catalogue.generation
    expect(parsePath('/apis/example.org/v1/widgets/a/scale', catalogue)).toMatchObject({ kind: 'resource', target: { name: 'a', subresource: 'scale' } })
    expect(parsePath('/apis/example.org/v1alpha1/widgets', catalogue)).toEqual({ kind: 'unknown' })
    expect(parsePath('/apis/example.org/v1/widgets')).toEqual({ kind: 'unknown' })
    expect((apiResourceList('example.org', 'v1', catalogue) as Json)['resources'].map((r: Json) => r['name'])).toEqual(['widgets', 'widgets/status', 'widgets/scale'])
    const groups = (aggregatedDiscovery('groups', catalogue) as Json)['items'].map((g: Json) => g['metadata']['name'])
    expect(groups).toContain('example.org')
    const doc = openApiGroupVersion('example.org', 'v1', catalogue) as Json
    expect(doc['components']['schemas']['org.example.v1.Widget']['x-kubernetes-group-version-kind']).toEqual([{ group: 'example.org', version: 'v1', kind: 'Widget' }])
    expect(doc['components']['schemas']).toHaveProperty(['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'])

    catalogue.define('widgets.example.org', [])
    expect(catalogue.generation).toBe(gen + 1)
    expect(parsePath('/apis/example.org/v1/widgets', catalogue)).toEqual({ kind: 'unknown' })
    expect(apiResourceList('example.org', 'v1', catalogue)).toBeUndefined()
    expect(openApiGroupVersion('example.org', 'v1', catalogue)).toBeUndefined()
  })
})

describe('printer columns', () => {
  const o = { apiVersion: 'x/v1', kind: 'W', metadata: { name: 'a', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { size: 3, tags: ['x', 'y'] }, status: { conditions: [{ type: 'Ready' }] } } as unknown as KubeObject
  const now = Date.parse('2026-01-01T00:02:00Z')

  it('reads the JSONPath subset and rejects the rest', () => {
    expect(parseSimpleJsonPath('.status.conditions[0].type')).toEqual(['status', 'conditions', 0, 'type'])
    expect(parseSimpleJsonPath('{.spec.size}')).toEqual(['spec', 'size'])
    for (const p of ['spec.size', '.spec[*].x', '.spec..x', '', '.']) expect(parseSimpleJsonPath(p), p).toBeUndefined()
    expect(valueAtJsonPath(o, '.status.conditions[0].type')).toBe('Ready')
    const t: Record<string, unknown> = {}
    setAtJsonPath(t, '.spec.replicas', 2)
    expect(t).toEqual({ spec: { replicas: 2 } })
  })

  it('prints the columns after Name, dates as ages and absent fields as null (<none>)', () => {
    const p = customResourcePrinter([
      { name: 'Size', type: 'integer', jsonPath: '.spec.size' }, { name: 'Ready', type: 'string', jsonPath: '.status.conditions[0].type' },
      { name: 'Missing', type: 'string', jsonPath: '.spec.nope', priority: 1 }, { name: 'Tags', type: 'string', jsonPath: '.spec.tags' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ])
    expect(p.columns.map((c) => [c.name, c.type, c.priority])).toEqual([['Name', 'string', 0], ['Size', 'integer', 0], ['Ready', 'string', 0], ['Missing', 'string', 1], ['Tags', 'string', 0], ['Age', 'string', 0]])
    expect(p.cells(o, now)).toEqual(['a', 3, 'Ready', null, '["x","y"]', '2m'])
    expect(customResourcePrinter([]).cells(o, now)).toEqual(['a', '2m'])
  })
})
