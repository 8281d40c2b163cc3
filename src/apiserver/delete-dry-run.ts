/**
 * DeleteOptions.dryRun: kubectl (`delete --dry-run=server`) sends it in the DELETE body, not the
 * query. kube-apiserver honours both; kpe's write path reads the query, so the body's value joins it.
 * Values other than "All" are refused as kube-apiserver's ValidateDeleteOptions refuses them.
 */
import { invalidKind, type StatusCause } from './api-error.js'

/** `q` with dryRun=All when the DeleteOptions body asks for it; 422 on a value kube-apiserver refuses. */
export function withBodyDryRun(body: Record<string, unknown>, q: URLSearchParams): URLSearchParams {
  const dryRun = body['dryRun']
  if (dryRun === undefined || dryRun === null) return q
  const values = Array.isArray(dryRun) ? dryRun : [dryRun]
  const causes: StatusCause[] = values.flatMap((v, i) => (v === 'All' ? [] : [{
    reason: 'FieldValueNotSupported', field: Array.isArray(dryRun) ? `dryRun[${i}]` : 'dryRun',
    message: `Unsupported value: ${JSON.stringify(v)}: supported values: "All"`,
  }]))
  if (causes.length > 0) throw invalidKind('meta.k8s.io', 'DeleteOptions', '', causes)
  if (values.length === 0 || q.getAll('dryRun').includes('All')) return q
  const merged = new URLSearchParams(q)
  merged.append('dryRun', 'All')
  return merged
}
