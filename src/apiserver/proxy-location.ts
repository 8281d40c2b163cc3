/**
 * Where a proxy request goes, as upstream's ResourceLocation decides (pkg/registry/core/service
 * and pod storage): a Service's port name or number picks the Endpoints port, then a random ready
 * address that is a pod; a pod's port is a number, a container port name or its first port. Pure.
 */
import type { Pod, Service } from '../api/index.js'
import { ApiError } from './api-error.js'
import type { ProxyKind } from './proxy-path.js'

export interface ProxyTarget {
  readonly kind: ProxyKind
  readonly namespace: string
  readonly name: string
  /** The endpoint: a pod IP, never dialled as such (the backend maps it to loopback). */
  readonly address: string
  readonly port: number
  readonly scheme: 'http' | 'https'
}

interface EndpointAddress { readonly ip: string; readonly targetRef?: { readonly kind?: string; readonly name?: string; readonly namespace?: string } }
interface EndpointSubset { readonly addresses?: readonly EndpointAddress[]; readonly ports?: readonly { readonly name?: string; readonly port: number }[] }
export interface EndpointsLike { readonly subsets?: readonly EndpointSubset[] }

export interface LocationInput {
  readonly namespace: string
  readonly name: string
  readonly scheme: '' | 'http' | 'https'
  readonly port: string
}

const unavailable = (message: string): ApiError => new ApiError(503, 'ServiceUnavailable', message)

/** `pick(n)` returns an integer in [0, n): the shell passes a random source, tests a fixed one. */
export function serviceProxyLocation(
  req: LocationInput, svc: Service | undefined, endpoints: EndpointsLike | undefined,
  podExists: (namespace: string, name: string) => boolean, pick: (n: number) => number,
): ProxyTarget {
  if (!svc) throw new ApiError(404, 'NotFound', `services "${req.name}" not found`, { name: req.name, kind: 'services' })
  let portName = req.port
  if (/^\d+$/.test(req.port)) {
    const sp = (svc.spec.ports ?? []).find((p) => p.port === Number(req.port))
    if (!sp) throw unavailable(`no service port ${req.port} found for service "${req.name}"`)
    portName = sp.name ?? ''
  }
  const subsets = endpoints?.subsets ?? []
  if (subsets.length === 0) throw unavailable(`no endpoints available for service "${req.name}"`)
  const seed = pick(subsets.length)
  for (let i = 0; i < subsets.length; i++) {
    const ss = subsets[(seed + i) % subsets.length]!
    const addresses = ss.addresses ?? []
    const port = (ss.ports ?? []).find((p) => (p.name ?? '') === portName)
    if (addresses.length === 0 || !port) continue
    const start = pick(addresses.length)
    for (let t = 0; t < addresses.length; t++) {
      const a = addresses[(start + t) % addresses.length]!
      // Upstream proxies only to addresses that are pods (isValidAddress).
      if (a.targetRef?.kind !== 'Pod' || !podExists(a.targetRef.namespace ?? req.namespace, a.targetRef.name ?? '')) continue
      return { kind: 'service', namespace: req.namespace, name: req.name, address: a.ip, port: port.port, scheme: req.scheme || 'http' }
    }
  }
  throw unavailable(`no endpoints available for service "${req.scheme ? `${req.scheme}:` : ''}${req.name}${req.port ? `:${req.port}` : ''}"`)
}

export function podProxyLocation(req: LocationInput, pod: Pod | undefined): ProxyTarget {
  if (!pod) throw new ApiError(404, 'NotFound', `pods "${req.name}" not found`, { name: req.name, kind: 'pods' })
  const ports = pod.spec.containers.flatMap((c) => c.ports ?? [])
  let port: number | undefined
  if (req.port === '') port = ports[0]?.containerPort
  else if (/^\d+$/.test(req.port)) port = Number(req.port)
  else port = ports.find((p) => p.name === req.port)?.containerPort
  if (port === undefined || port < 1 || port > 65535) throw unavailable(`pod "${req.name}" has no port ${req.port === '' ? '(it declares no container port)' : `"${req.port}"`}`)
  const ip = pod.status?.podIP
  if (!ip) throw unavailable(`pod "${req.name}" has no IP yet (phase ${pod.status?.phase ?? 'Pending'})`)
  return { kind: 'pod', namespace: req.namespace, name: req.name, address: ip, port, scheme: req.scheme || 'http' }
}
