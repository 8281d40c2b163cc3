/**
 * Loads Kubernetes manifests (multi-document YAML or JSON, `List` kinds included) into typed,
 * validated objects, each remembering where it came from. Any problem is an InputError naming
 * file, document, object and field; nothing is returned half-loaded.
 */
import { InputError, type InputLocation } from '../errors.js'
import { decodeObject } from './decode-object.js'
import { FieldErrors, isObject } from './field-errors.js'
import type { EndpointSlice, KubeObject, KubeProxyConfiguration, Node, Pod, Service } from './types.js'
import { schemaKinds } from './schema/schema-kinds.js'
import { validateObjectFields } from './validate-objects.js'
import { clusterScopedStoredKinds } from './validate-stored-kinds.js'
import { validateKubeProxyConfiguration, withoutNulls } from './validate-kube-proxy-config.js'
import { parseYamlDocuments } from './yaml-documents.js'

export interface Source {
  readonly file: string
  /** 1-based document index in the file. */
  readonly document: number
}

export interface Loaded<T> {
  readonly object: T
  readonly source: Source
}

/** Everything a set of manifest files held, by kind, in file order. */
export interface ManifestSet {
  readonly services: Loaded<Service>[]
  readonly endpointSlices: Loaded<EndpointSlice>[]
  readonly nodes: Loaded<Node>[]
  readonly pods: Loaded<Pod>[]
  readonly kubeProxyConfigurations: Loaded<KubeProxyConfiguration>[]
  /** Kinds the control plane knows but rule building does not read (Deployment, Namespace, ...). */
  readonly others: Loaded<KubeObject>[]
}

/** Kinds accepted besides the four rule inputs: every kind the control plane stores. */
const otherKnownKinds: Readonly<Record<string, readonly string[]>> = (() => {
  const out: Record<string, string[]> = {}
  for (const k of schemaKinds()) if (k.resource !== undefined && !k.answered) (out[k.kind] ??= []).push(k.apiVersion)
  return out
})()

const ruleKinds: Readonly<Record<string, string>> = {
  Service: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  Node: 'v1',
  Pod: 'v1',
  KubeProxyConfiguration: 'kubeproxy.config.k8s.io/v1alpha1',
}

export function emptyManifestSet(): ManifestSet {
  return { services: [], endpointSlices: [], nodes: [], pods: [], kubeProxyConfigurations: [], others: [] }
}

export interface LoadOptions {
  /** Reject fields the API schema does not know (KubeProxyConfiguration: fields kpe does not know). Default true. */
  readonly strictFields?: boolean
}

/** Parses one file's text and adds its objects to `into`. Throws InputError; `into` is untouched on error. */
export function loadManifestText(text: string, file: string, into: ManifestSet = emptyManifestSet(), opts: LoadOptions = {}): ManifestSet {
  const staged = emptyManifestSet()
  for (const { document, value } of parseYamlDocuments(text, file)) {
    if (value === null || value === undefined) continue
    addObject(value, { file, document }, staged, opts)
  }
  return mergeInto(staged, into)
}

/**
 * Adds objects read from somewhere other than a file (an API server's lists): `origin` names
 * them in errors, each object's position is its document number. `into` is untouched on error.
 */
export function loadManifestObjects(values: readonly unknown[], origin: string, into: ManifestSet = emptyManifestSet(), opts: LoadOptions = {}): ManifestSet {
  const staged = emptyManifestSet()
  values.forEach((value, i) => addObject(value, { file: origin, document: i + 1 }, staged, opts))
  return mergeInto(staged, into)
}

/** Appends a fully loaded set to `into`, so a failure part way leaves `into` as it was. */
function mergeInto(staged: ManifestSet, into: ManifestSet): ManifestSet {
  for (const key of Object.keys(staged) as (keyof ManifestSet)[]) (into[key] as Loaded<unknown>[]).push(...(staged[key] as Loaded<unknown>[]))
  return into
}

function namespacedKind(kind: unknown): boolean {
  return typeof kind === 'string' && !['Node', 'Namespace', 'KubeProxyConfiguration', 'List'].includes(kind) && !clusterScopedStoredKinds.has(kind) && !kind.endsWith('List')
}

function describe(obj: Record<string, unknown>): string {
  const kind = typeof obj['kind'] === 'string' ? obj['kind'] : 'object'
  const meta = isObject(obj['metadata']) ? obj['metadata'] : {}
  const name = typeof meta['name'] === 'string' ? meta['name'] : '<unnamed>'
  const ns = typeof meta['namespace'] === 'string' ? `${meta['namespace']}/` : ''
  return `${kind} ${ns}${name}`
}

function fail(loc: InputLocation, errs: FieldErrors): never {
  const [first, ...rest] = errs.list
  throw new InputError({ ...loc, field: first!.field }, first!.message, rest.length > 0 ? { hint: `${rest.length} more: ${rest.map((e) => `${e.field}: ${e.message}`).join('; ')}` } : {})
}

function addObject(value: unknown, source: Source, into: ManifestSet, opts: LoadOptions, listPath = ''): void {
  if (!isObject(value)) throw new InputError({ file: source.file, document: source.document, field: listPath || undefined }, 'expected a Kubernetes object (a mapping with apiVersion and kind)')
  const kind = value['kind']
  const apiVersion = value['apiVersion']
  const meta = isObject(value['metadata']) ? value['metadata'] : undefined
  if (meta && meta['namespace'] === undefined && namespacedKind(kind)) value['metadata'] = { ...meta, namespace: 'default' }
  const loc: InputLocation = { file: source.file, document: source.document, object: describe(value) }
  const at = (field: string): string => (listPath ? `${listPath}.${field}` : field)
  if (typeof kind !== 'string' || kind === '') throw new InputError({ ...loc, field: at('kind') }, 'Required value: every object needs a kind')
  if (typeof apiVersion !== 'string' || apiVersion === '') throw new InputError({ ...loc, field: at('apiVersion') }, 'Required value: every object needs an apiVersion')
  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(value['items']))) {
    const items = value['items']
    if (!Array.isArray(items)) throw new InputError({ ...loc, field: at('items') }, 'a List needs an items array')
    items.forEach((item, i) => addObject(item, source, into, opts, `${at('items')}[${i}]`))
    return
  }
  const strictFields = opts.strictFields ?? true
  const expected = ruleKinds[kind]
  if (expected !== undefined && apiVersion !== expected) {
    throw new InputError({ ...loc, field: at('apiVersion') }, `Unsupported value: "${apiVersion}": ${kind} is served as ${expected}`)
  }
  if (expected === undefined && !otherKnownKinds[kind]?.includes(apiVersion)) {
    throw new InputError({ ...loc, field: at('kind') }, `unknown kind "${kind}" (apiVersion ${apiVersion})`, {
      hint: `kpe reads ${[...Object.keys(ruleKinds), ...Object.keys(otherKnownKinds)].join(', ')}`,
    })
  }
  const prefixed = (errs: FieldErrors): FieldErrors => {
    if (listPath) for (const e of errs.list) (e as { field: string }).field = `${listPath}.${e.field}`
    return errs
  }
  const check = (errs: FieldErrors): void => {
    if (!errs.ok) fail(loc, prefixed(errs))
  }
  if (kind === 'KubeProxyConfiguration') {
    const kpc = withoutNulls(value)
    check(validateKubeProxyConfiguration(kpc))
    into.kubeProxyConfigurations.push({ object: kpc as unknown as KubeProxyConfiguration, source })
    return
  }
  const object = decodeChecked(kind, apiVersion, value, strictFields, check)
  switch (kind) {
    case 'Service': into.services.push({ object: object as unknown as Service, source }); return
    case 'EndpointSlice': into.endpointSlices.push({ object: object as unknown as EndpointSlice, source }); return
    case 'Node': into.nodes.push({ object: object as unknown as Node, source }); return
    case 'Pod': into.pods.push({ object: object as unknown as Pod, source }); return
    default: into.others.push({ object: object as KubeObject, source })
  }
}

/**
 * Decodes against the API schema (wrong JSON types, null list items, unknown fields when
 * strict), then validates values; `check` throws on the first problem. Returns the decoded object.
 */
function decodeChecked(kind: string, apiVersion: string, value: Record<string, unknown>, strictFields: boolean, check: (errs: FieldErrors) => void): Record<string, unknown> {
  const decoded = decodeObject(apiVersion, kind, value)
  if (!decoded) return value
  const structural = new FieldErrors()
  for (const e of decoded.typeErrors) structural.list.push({ field: e.field, type: 'FieldValueInvalid', message: e.message })
  structural.list.push(...decoded.nullItems.list)
  if (strictFields) for (const field of decoded.unknownFields) structural.unknownField(field)
  check(structural)
  check(validateObjectFields(kind, decoded.object, 'rules-input'))
  return decoded.object
}

/** Rejects two objects of the same kind and name, naming both places. */
export function checkDuplicates(set: ManifestSet): void {
  const groups: [string, Loaded<KubeObject>[]][] = [
    ['Service', set.services],
    ['EndpointSlice', set.endpointSlices],
    ['Node', set.nodes],
    ['Pod', set.pods],
  ]
  for (const [kind, list] of groups) {
    const seen = new Map<string, Source>()
    for (const { object, source } of list) {
      const key = kind === 'Node' ? object.metadata.name ?? '' : `${object.metadata.namespace}/${object.metadata.name}`
      const prev = seen.get(key)
      if (prev) {
        throw new InputError({ file: source.file, document: source.document, object: `${kind} ${key}`, field: 'metadata.name' },
          `Duplicate value: "${key}" is already defined in ${prev.file}, document ${prev.document}`)
      }
      seen.set(key, source)
    }
  }
}
