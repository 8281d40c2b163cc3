/**
 * `kpe up -f FILE`: every object in the files (multi-document YAML or JSON, `*List` kinds
 * flattened) is server-side applied through the API, as `kubectl apply --server-side` would,
 * in file and document order. A rejected object is reported with file, document and object.
 */
import { parseYamlDocuments } from '../api/index.js'
import { ApiError, type LocalApiClient, type ResourceInfo } from '../apiserver/index.js'
import { InputError } from '../errors.js'
import type { KubeObject } from '../store/index.js'

export interface ManifestDocument {
  readonly file: string
  readonly document: number
  readonly object: KubeObject
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Decodes manifest text into objects; pure. */
export function parseManifestDocuments(text: string, file: string): ManifestDocument[] {
  const out: ManifestDocument[] = []
  parseYamlDocuments(text, file).forEach(({ value }, i) => {
    if (value === null || value === undefined) return
    if (!isObj(value)) throw new InputError({ file, document: i + 1 }, 'a manifest must be a mapping')
    const items = typeof value['kind'] === 'string' && value['kind'].endsWith('List') && Array.isArray(value['items']) ? value['items'] : [value]
    for (const item of items) {
      // A KubeProxyConfiguration (kube-proxy's own config, no metadata) may sit among the manifests.
      if (isObj(item) && item['kind'] === 'KubeProxyConfiguration') {
        out.push({ file, document: i + 1, object: { metadata: {}, ...item } as KubeObject })
        continue
      }
      if (!isObj(item) || !isObj(item['metadata'])) throw new InputError({ file, document: i + 1 }, 'an object needs apiVersion, kind and metadata')
      out.push({ file, document: i + 1, object: item as KubeObject })
    }
  })
  return out
}

function describe(o: KubeObject): string {
  const ns = o.metadata.namespace ? `${o.metadata.namespace}/` : ''
  return `${String(o.kind)} ${ns}${o.metadata.name ?? ''}`
}

/** How long a kind defined by an earlier CRD in the same run may take to be served. */
export const crdEstablishTimeoutMs = 10_000

/** "group/Kind" of what a CustomResourceDefinition defines, or undefined for other objects. */
function definedKind(o: KubeObject): string | undefined {
  if (o.kind !== 'CustomResourceDefinition' || !String(o.apiVersion ?? '').startsWith('apiextensions.k8s.io/')) return undefined
  const spec = isObj(o['spec']) ? o['spec'] : {}
  const names = isObj(spec['names']) ? spec['names'] : {}
  return `${String(spec['group'] ?? '')}/${String(names['kind'] ?? '')}`
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/')
  return slash < 0 ? '' : apiVersion.slice(0, slash)
}

/**
 * The served resource of an object's kind. A kind that a CRD earlier in the run defines is
 * waited for (as `kubectl wait --for condition=established` before applying its objects).
 */
async function resourceOf(client: LocalApiClient, o: KubeObject, definedEarlier: ReadonlySet<string>): Promise<ResourceInfo | undefined> {
  const apiVersion = String(o.apiVersion ?? '')
  const kind = String(o.kind ?? '')
  const deadline = Date.now() + crdEstablishTimeoutMs
  for (;;) {
    const info = client.findByKind(apiVersion, kind)
    if (info || !definedEarlier.has(`${groupOf(apiVersion)}/${kind}`) || Date.now() >= deadline) return info
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Applies the documents in order; returns one "kind/name applied" line per object. */
export async function applyManifestDocuments(client: LocalApiClient, docs: readonly ManifestDocument[]): Promise<string[]> {
  const lines: string[] = []
  const definedEarlier = new Set<string>()
  for (const d of docs) {
    const loc = { file: d.file, document: d.document, object: describe(d.object) }
    if (!await resourceOf(client, d.object, definedEarlier)) {
      throw new InputError(loc, `kind ${String(d.object.kind)} (${String(d.object.apiVersion)}) is not served by kpe`, { hint: 'see docs/kubectl.md for the served resources' })
    }
    try {
      const stored = await client.apply(d.object, 'kpe-up')
      const defined = definedKind(stored)
      if (defined) definedEarlier.add(defined)
      lines.push(`${String(stored.kind).toLowerCase()}/${stored.metadata.name ?? ''} applied`)
    } catch (e) {
      if (e instanceof ApiError) throw new InputError(loc, e.message, { cause: e })
      throw e
    }
  }
  return lines
}
