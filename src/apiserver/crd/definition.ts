/**
 * CustomResourceDefinition (apiextensions.k8s.io/v1) essentials, pure: the defaults and
 * validation kube-apiserver applies to a CRD, its status (acceptedNames, NamesAccepted and
 * Established), and the catalogue entries its served versions become.
 */
import { type CustomResourceFacts, FieldErrors, isDns1035Label, isDns1123Subdomain, type PrinterColumn, type ResourceInfo, type ScalePaths, type StructuralSchema, type Subresource } from '../../api/index.js'

type Json = Record<string, unknown>

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Json : {}
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []
}

/** Fills what kube-apiserver defaults on a CRD: singular, listKind, conversion strategy. In place. */
export function defaultCrd(crd: Json): void {
  const spec = obj(crd['spec'])
  const names = obj(spec['names'])
  if (typeof names['kind'] === 'string') {
    if (names['singular'] === undefined || names['singular'] === '') names['singular'] = names['kind'].toLowerCase()
    if (names['listKind'] === undefined || names['listKind'] === '') names['listKind'] = `${names['kind']}List`
  }
  if (spec['conversion'] === undefined) spec['conversion'] = { strategy: 'None' }
}

function validateNames(names: Json, errs: FieldErrors): void {
  const at = 'spec.names'
  for (const field of ['plural', 'singular', 'kind', 'listKind'] as const) {
    const v = names[field]
    if (typeof v !== 'string' || v === '') { errs.required(`${at}.${field}`); continue }
    const ok = field === 'plural' || field === 'singular' ? isDns1035Label(v) : /^[A-Za-z][A-Za-z0-9]*$/.test(v)
    if (!ok) errs.invalid(`${at}.${field}`, v, field === 'plural' || field === 'singular' ? 'a lowercase RFC 1035 label must consist of lower case alphanumeric characters or \'-\'' : 'must be a valid kind name')
  }
  strings(names['shortNames']).forEach((s, i) => {
    if (!isDns1035Label(s)) errs.invalid(`${at}.shortNames[${i}]`, s, 'a lowercase RFC 1035 label must consist of lower case alphanumeric characters or \'-\'')
  })
}

function validateVersions(versions: unknown, errs: FieldErrors): void {
  if (!Array.isArray(versions) || versions.length === 0) { errs.required('spec.versions', 'must have exactly one version marked as storage version'); return }
  const seen = new Set<string>()
  let storage = 0
  let served = 0
  versions.forEach((raw, i) => {
    const v = obj(raw)
    const at = `spec.versions[${i}]`
    const name = v['name']
    if (typeof name !== 'string' || name === '') errs.required(`${at}.name`)
    else if (!isDns1035Label(name)) errs.invalid(`${at}.name`, name, 'a DNS-1035 label must consist of lower case alphanumeric characters or \'-\'')
    else if (seen.has(name)) errs.duplicate(`${at}.name`, name)
    else seen.add(name)
    if (v['storage'] === true) storage++
    if (v['served'] === true) served++
    const schema = obj(v['schema'])['openAPIV3Schema']
    if (schema === undefined) errs.required(`${at}.schema.openAPIV3Schema`, 'schemas are required')
    else if (obj(schema)['type'] !== 'object') errs.invalid(`${at}.schema.openAPIV3Schema.type`, obj(schema)['type'] ?? '', 'must be object at the root')
  })
  if (storage !== 1) errs.invalid('spec.versions', versions.map((v) => obj(v)['name']), 'must have exactly one version marked as storage version')
  if (served === 0) errs.invalid('spec.versions', versions.map((v) => obj(v)['name']), 'must have at least one served version')
}

/** The essentials of kube-apiserver's CRD validation; paths as it reports them. Call after defaultCrd. */
export function validateCrd(crd: Json): FieldErrors {
  const errs = new FieldErrors()
  const spec = obj(crd['spec'])
  const names = obj(spec['names'])
  const group = spec['group']
  if (typeof group !== 'string' || group === '') errs.required('spec.group')
  else if (!isDns1123Subdomain(group) || !group.includes('.')) errs.invalid('spec.group', group, 'should be a domain with at least one dot')
  const expected = `${String(names['plural'] ?? '')}.${String(group ?? '')}`
  const name = obj(crd['metadata'])['name']
  if (name !== expected) errs.invalid('metadata.name', name ?? '', 'must be spec.names.plural+"."+spec.group')
  const scope = spec['scope']
  if (scope === undefined || scope === '') errs.required('spec.scope')
  else if (scope !== 'Namespaced' && scope !== 'Cluster') errs.notSupported('spec.scope', scope, ['Cluster', 'Namespaced'])
  validateNames(names, errs)
  validateVersions(spec['versions'], errs)
  const strategy = obj(spec['conversion'])['strategy']
  if (strategy !== undefined && strategy !== 'None') errs.notSupported('spec.conversion.strategy', strategy, ['None'])
  return errs
}

/** The status kube-apiserver's controllers settle on for a valid CRD: names accepted, established. */
export function crdStatus(crd: Json, now: string): Json {
  const spec = obj(crd['spec'])
  const names = obj(spec['names'])
  const condition = (type: string, reason: string, message: string): Json => ({ type, status: 'True', lastTransitionTime: now, reason, message })
  return {
    acceptedNames: structuredClone(names),
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    storedVersions: obj(crd['status'])['storedVersions'] ?? [storageVersionOf(spec)].filter((v) => v !== ''),
  }
}

function storageVersionOf(spec: Json): string {
  const v = (Array.isArray(spec['versions']) ? spec['versions'] : []).map(obj).find((x) => x['storage'] === true)
  return typeof v?.['name'] === 'string' ? v['name'] : ''
}

function printerColumnsOf(v: Json): PrinterColumn[] {
  return (Array.isArray(v['additionalPrinterColumns']) ? v['additionalPrinterColumns'] : []).map(obj)
    .filter((c) => typeof c['name'] === 'string' && typeof c['jsonPath'] === 'string')
    .map((c) => c as unknown as PrinterColumn)
}

function scaleOf(subresources: Json): ScalePaths | undefined {
  const s = subresources['scale']
  if (s === undefined) return undefined
  const scale = obj(s)
  return {
    specReplicasPath: String(scale['specReplicasPath'] ?? ''),
    statusReplicasPath: String(scale['statusReplicasPath'] ?? ''),
    ...(typeof scale['labelSelectorPath'] === 'string' ? { labelSelectorPath: scale['labelSelectorPath'] } : {}),
  }
}

/** One catalogue entry per served version of a valid (defaulted) CRD. */
export function crdResources(crd: Json): ResourceInfo[] {
  const spec = obj(crd['spec'])
  const names = obj(spec['names'])
  const storageVersion = storageVersionOf(spec)
  const versions = (Array.isArray(spec['versions']) ? spec['versions'] : []).map(obj).filter((v) => v['served'] === true)
  return versions.map((v) => {
    const subresources = obj(v['subresources'])
    const scale = scaleOf(subresources)
    const subs: Subresource[] = [...(subresources['status'] !== undefined ? ['status' as const] : []), ...(scale ? ['scale' as const] : [])]
    const custom: CustomResourceFacts = {
      crdName: String(obj(crd['metadata'])['name']), storageVersion,
      schema: obj(obj(v['schema'])['openAPIV3Schema']) as StructuralSchema, printerColumns: printerColumnsOf(v), scale,
    }
    return {
      group: String(spec['group']), version: String(v['name']), resource: String(names['plural']), singular: String(names['singular']),
      kind: String(names['kind']), namespaced: spec['scope'] === 'Namespaced', shortNames: strings(names['shortNames']),
      categories: strings(names['categories']), verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      subresources: subs, tracksGeneration: true, custom,
    }
  })
}
