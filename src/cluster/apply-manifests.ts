/**
 * `kpe up -f FILE`: every object in the files (multi-document YAML or JSON, `*List` kinds
 * flattened) is server-side applied through the API, as `kubectl apply --server-side` would,
 * in file and document order. A rejected object is reported with file, document and object.
 */
import { parseYamlDocuments } from '../api/index.js'
import { ApiError, findByKind, type LocalApiClient } from '../apiserver/index.js'
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

/** Applies the documents in order; returns one "kind/name applied" line per object. */
export async function applyManifestDocuments(client: LocalApiClient, docs: readonly ManifestDocument[]): Promise<string[]> {
  const lines: string[] = []
  for (const d of docs) {
    const loc = { file: d.file, document: d.document, object: describe(d.object) }
    if (!findByKind(String(d.object.apiVersion ?? ''), String(d.object.kind ?? ''))) {
      throw new InputError(loc, `kind ${String(d.object.kind)} (${String(d.object.apiVersion)}) is not served by kpe`, { hint: 'see docs/kubectl.md for the served resources' })
    }
    try {
      const stored = await client.apply(d.object, 'kpe-up')
      lines.push(`${String(stored.kind).toLowerCase()}/${stored.metadata.name ?? ''} applied`)
    } catch (e) {
      if (e instanceof ApiError) throw new InputError(loc, e.message, { cause: e })
      throw e
    }
  }
  return lines
}
