/**
 * networking.k8s.io/v1 Ingress as routing data: which Ingresses the `kpe` class serves, their
 * host and path rules, default backend and TLS hosts, and the one backend a request meets
 * (exact host before wildcard before no host; longest path, Exact before Prefix on a tie; Prefix
 * matched by path elements). Pure; an Ingress whose fields cannot be read is left out and named.
 */
import type { KubeObject } from '../store/index.js'

export const kpeIngressClassName = 'kpe'
export const kpeIngressController = 'kpe.io/ingress-controller'
export const defaultIngressClassAnnotation = 'ingressclass.kubernetes.io/is-default-class'
/** The annotation that named a class before spec.ingressClassName (still honoured upstream). */
const legacyClassAnnotation = 'kubernetes.io/ingress.class'

export interface IngressBackendRef {
  readonly namespace: string
  readonly service: string
  /** A port number, or the name of one of the Service's ports. */
  readonly port: number | string
}

export type MatchedPathType = 'Exact' | 'Prefix'

export interface IngressPathRule {
  /** Lowercase; `*.example.com` for a wildcard; undefined: every host. */
  readonly host: string | undefined
  readonly path: string
  /** ImplementationSpecific is matched as Prefix. */
  readonly pathType: MatchedPathType
  readonly backend: IngressBackendRef
  /** `namespace/name` of the Ingress. */
  readonly ingress: string
}

export interface IngressTls {
  readonly hosts: readonly string[]
  readonly secret: { readonly namespace: string; readonly name: string }
  readonly ingress: string
}

export interface IngressRoutes {
  readonly rules: readonly IngressPathRule[]
  readonly defaultBackend: { readonly backend: IngressBackendRef; readonly ingress: string } | undefined
  readonly tls: readonly IngressTls[]
  /** The Ingresses of the class, `namespace/name`, oldest first (their status is kpe's to write). */
  readonly ingresses: readonly string[]
  readonly skipped: readonly { readonly ingress: string; readonly error: string }[]
}

export interface IngressMatch {
  readonly backend: IngressBackendRef
  readonly ingress: string
  /** What matched: `host path (type)`, or `default backend`. */
  readonly rule: string
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function field<T>(v: unknown, path: string, check: (x: unknown) => x is T, expected: string): T {
  if (!check(v)) throw new TypeError(`${path}: expected ${expected}`)
  return v
}
const isString = (x: unknown): x is string => typeof x === 'string'
const isList = (x: unknown): x is unknown[] => Array.isArray(x)

/** An IngressClass marks itself default with the annotation set to "true". */
export function isDefaultIngressClass(cls: KubeObject | undefined): boolean {
  return cls?.metadata.annotations?.[defaultIngressClassAnnotation] === 'true'
}

/** Does the `kpe` class serve this Ingress: named by spec or annotation, or unnamed while kpe is the default. */
export function servesIngress(ing: KubeObject, kpeIsDefault: boolean): boolean {
  const spec = isObj(ing['spec']) ? ing['spec'] : {}
  const named = spec['ingressClassName'] ?? ing.metadata.annotations?.[legacyClassAnnotation]
  return named === undefined || named === '' ? kpeIsDefault : named === kpeIngressClassName
}

function backendOf(v: unknown, path: string, namespace: string): IngressBackendRef {
  const b = field(v, path, isObj, 'a backend')
  if (b['resource'] !== undefined) throw new TypeError(`${path}.resource: resource backends are not served by kpe; use service`)
  const svc = field(b['service'], `${path}.service`, isObj, 'a service backend')
  const name = field(svc['name'], `${path}.service.name`, isString, 'a Service name')
  const port = field(svc['port'], `${path}.service.port`, isObj, 'a port (number or name)')
  if (typeof port['number'] === 'number' && Number.isInteger(port['number']) && port['number'] > 0 && port['number'] < 65536) return { namespace, service: name, port: port['number'] }
  if (typeof port['name'] === 'string' && port['name'] !== '') return { namespace, service: name, port: port['name'] }
  throw new TypeError(`${path}.service.port: expected number (1-65535) or name`)
}

interface ReadIngress {
  readonly rules: IngressPathRule[]
  readonly defaultBackend: IngressBackendRef | undefined
  readonly tls: IngressTls[]
}

function readIngress(ing: KubeObject, key: string): ReadIngress {
  const namespace = ing.metadata.namespace ?? 'default'
  const spec = field(ing['spec'], 'spec', isObj, 'an object')
  const rules: IngressPathRule[] = []
  field(spec['rules'] ?? [], 'spec.rules', isList, 'a list').forEach((r, i) => {
    const rule = field(r, `spec.rules[${i}]`, isObj, 'an object')
    const host = rule['host'] === undefined || rule['host'] === '' ? undefined : field(rule['host'], `spec.rules[${i}].host`, isString, 'a host name').toLowerCase()
    if (rule['http'] === undefined) return
    const http = field(rule['http'], `spec.rules[${i}].http`, isObj, 'an object')
    field(http['paths'], `spec.rules[${i}].http.paths`, isList, 'a list').forEach((p, j) => {
      const at = `spec.rules[${i}].http.paths[${j}]`
      const entry = field(p, at, isObj, 'an object')
      const path = entry['path'] === undefined ? '/' : field(entry['path'], `${at}.path`, isString, 'a path')
      if (!path.startsWith('/')) throw new TypeError(`${at}.path: must be an absolute path`)
      const type = entry['pathType'] ?? 'ImplementationSpecific'
      if (type !== 'Exact' && type !== 'Prefix' && type !== 'ImplementationSpecific') throw new TypeError(`${at}.pathType: must be Exact, Prefix or ImplementationSpecific`)
      rules.push({ host, path, pathType: type === 'Exact' ? 'Exact' : 'Prefix', backend: backendOf(entry['backend'], `${at}.backend`, namespace), ingress: key })
    })
  })
  const defaultBackend = spec['defaultBackend'] === undefined ? undefined : backendOf(spec['defaultBackend'], 'spec.defaultBackend', namespace)
  const tls = field(spec['tls'] ?? [], 'spec.tls', isList, 'a list').flatMap((t, i): IngressTls[] => {
    const entry = field(t, `spec.tls[${i}]`, isObj, 'an object')
    const hosts = field(entry['hosts'] ?? [], `spec.tls[${i}].hosts`, isList, 'a list').map((h, j) => field(h, `spec.tls[${i}].hosts[${j}]`, isString, 'a host name').toLowerCase())
    if (entry['secretName'] === undefined) return []
    return [{ hosts, secret: { namespace, name: field(entry['secretName'], `spec.tls[${i}].secretName`, isString, 'a Secret name') }, ingress: key }]
  })
  return { rules, defaultBackend, tls }
}

const created = (o: KubeObject): string => String(o.metadata.creationTimestamp ?? '')

/** The routes of every Ingress the kpe class serves; on conflicts the oldest Ingress wins. */
export function buildIngressRoutes(ingresses: readonly KubeObject[], kpeIsDefault: boolean): IngressRoutes {
  const ours = ingresses.filter((i) => isObj(i?.metadata) && servesIngress(i, kpeIsDefault))
    .map((i) => ({ i, key: `${i.metadata.namespace ?? 'default'}/${i.metadata.name ?? ''}` }))
    .sort((a, b) => (created(a.i) < created(b.i) ? -1 : created(a.i) > created(b.i) ? 1 : a.key < b.key ? -1 : 1))
  const rules: IngressPathRule[] = []
  const tls: IngressTls[] = []
  const skipped: { ingress: string; error: string }[] = []
  let defaultBackend: IngressRoutes['defaultBackend']
  for (const { i, key } of ours) {
    let read: ReadIngress
    try {
      read = readIngress(i, key)
    } catch (err) {
      skipped.push({ ingress: key, error: err instanceof Error ? err.message : String(err) })
      continue
    }
    for (const r of read.rules) if (!rules.some((o) => o.host === r.host && o.path === r.path && o.pathType === r.pathType)) rules.push(r)
    tls.push(...read.tls)
    if (!defaultBackend && read.defaultBackend) defaultBackend = { backend: read.defaultBackend, ingress: key }
  }
  return { rules, defaultBackend, tls, ingresses: ours.map((o) => o.key), skipped }
}

/** `*.example.com` matches exactly one more label (`a.example.com`, not `example.com` or `a.b.example.com`). */
export function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host
  const dot = host.indexOf('.')
  return dot > 0 && host.slice(dot + 1) === pattern.slice(2)
}

/** Prefix by path elements: `/api` matches `/api`, `/api/` and `/api/v1`, not `/apis`. */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.replace(/\/+$/, '')
  return p === '' || path === p || path.startsWith(`${p}/`)
}

/** The host a request names (Host header or SNI), lowercase, without port or trailing dot. */
export function requestHost(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase()
  const bare = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d*$/, '')
  return bare.replace(/\.$/, '')
}

export function matchIngress(routes: IngressRoutes, hostHeader: string | undefined, rawPath: string): IngressMatch | undefined {
  const host = requestHost(hostHeader)
  const path = rawPath.split('?')[0]!.split('#')[0]! || '/'
  const exact = routes.rules.filter((r) => r.host !== undefined && !r.host.startsWith('*.') && r.host === host)
  const wildcard = routes.rules.filter((r) => r.host?.startsWith('*.') && hostMatches(r.host, host))
  const group = exact.length > 0 ? exact : wildcard.length > 0 ? wildcard : routes.rules.filter((r) => r.host === undefined)
  const best = group
    .filter((r) => (r.pathType === 'Exact' ? r.path === path : prefixMatches(r.path, path)))
    .sort((a, b) => b.path.replace(/\/+$/, '').length - a.path.replace(/\/+$/, '').length || (a.pathType === b.pathType ? 0 : a.pathType === 'Exact' ? -1 : 1))[0]
  if (best) return { backend: best.backend, ingress: best.ingress, rule: `${best.host ?? '*'} ${best.path} (${best.pathType})` }
  return routes.defaultBackend ? { ...routes.defaultBackend, rule: 'default backend' } : undefined
}

/** The Secret holding the certificate for an SNI host; undefined: the default certificate. */
export function tlsSecretFor(routes: IngressRoutes, sni: string): IngressTls['secret'] | undefined {
  const host = requestHost(sni)
  return (routes.tls.find((t) => t.hosts.includes(host)) ?? routes.tls.find((t) => t.hosts.some((h) => hostMatches(h, host))))?.secret
}
