/**
 * Parses the service and pod proxy subresource paths, as upstream's ProxyREST routes them:
 * `/api/v1/namespaces/NS/{services,pods}/[SCHEME:]NAME[:PORT]/proxy[/PATH]`. The PATH is kept
 * raw (still percent-encoded) so it reaches the pod byte for byte. Pure.
 */

export type ProxyKind = 'service' | 'pod'

export interface ProxyPath {
  readonly kind: ProxyKind
  readonly namespace: string
  readonly name: string
  /** '' when the id named no scheme. */
  readonly scheme: '' | 'http' | 'https'
  /** A port name or number, '' when the id named none. */
  readonly port: string
  /** The raw path after `/proxy`, undefined for a bare `/proxy` (redirected to `/proxy/`). */
  readonly rest: string | undefined
}

export type ParsedProxyPath = ProxyPath | { readonly kind: 'invalid'; readonly reason: string }

const proxyPathPattern = /^\/api\/v1\/namespaces\/([^/]+)\/(services|pods)\/([^/]+)\/proxy(\/.*)?$/

/** Upstream's utilnet.SplitSchemeNamePort: `name`, `name:port` or `scheme:name:port`. */
export function splitSchemeNamePort(id: string): { scheme: '' | 'http' | 'https'; name: string; port: string } | undefined {
  const parts = id.split(':')
  const [a, b, c] = parts
  if (parts.length === 1 && a) return { scheme: '', name: a, port: '' }
  if (parts.length === 2 && a) return { scheme: '', name: a, port: b ?? '' }
  if (parts.length === 3 && b && (a === '' || a === 'http' || a === 'https')) return { scheme: a as '' | 'http' | 'https', name: b, port: c ?? '' }
  return undefined
}

/** undefined when the path is not a proxy path at all. */
export function parseProxyPath(rawPathname: string): ParsedProxyPath | undefined {
  const m = proxyPathPattern.exec(rawPathname)
  if (!m) return undefined
  let namespace: string
  let id: string
  try {
    namespace = decodeURIComponent(m[1]!)
    id = decodeURIComponent(m[3]!)
  } catch {
    return { kind: 'invalid', reason: `malformed escape in ${rawPathname}` }
  }
  const kind: ProxyKind = m[2] === 'services' ? 'service' : 'pod'
  const split = splitSchemeNamePort(id)
  if (!split) return { kind: 'invalid', reason: `invalid ${kind} request "${id}"` }
  return { kind, namespace, ...split, rest: m[4] }
}
