/**
 * The service and pod proxy subresources' HTTP shell: resolves the target (proxy-location.ts),
 * asks the injected ServiceProxyBackend for a socket already connected to it, then relays the
 * request (method, path, query, headers minus hop-by-hop, body) and streams the response back.
 * Upgrade requests are spliced. The API server itself never dials anything.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { request } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { connect as tlsConnect } from 'node:tls'
import type { Pod, Service } from '../api/index.js'
import type { ObjectStoreReader } from '../store/index.js'
import { ApiError } from './api-error.js'
import { podProxyLocation, serviceProxyLocation, type EndpointsLike, type ProxyTarget } from './proxy-location.js'
import type { ProxyPath } from './proxy-path.js'

export type { ProxyTarget } from './proxy-location.js'

/**
 * Carries proxy traffic to a target's endpoint. `kpe up` wires one that routes through the
 * userspace dataplane to the pod's loopback address; a bare ApiServer has none (503).
 */
export interface ServiceProxyBackend {
  connect(target: ProxyTarget): Promise<Socket>
}

export interface ServiceProxyDeps {
  readonly store: ObjectStoreReader
  readonly backend: ServiceProxyBackend | undefined
  /** An integer in [0, n). */
  readonly pick: (n: number) => number
}

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

/** Request or response headers without hop-by-hop ones, including those Connection names (RFC 9110 7.6.1). */
export function endToEndHeaders(headers: IncomingMessage['headers'], opts: { keepUpgrade: 'keep' | 'strip' } = { keepUpgrade: 'strip' }): Record<string, string | string[]> {
  const named = new Set(String(headers.connection ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''))
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue
    const isUpgradeHeader = k === 'connection' || k === 'upgrade'
    if (opts.keepUpgrade === 'keep' && isUpgradeHeader) out[k] = v
    else if (!hopByHop.has(k) && !named.has(k)) out[k] = v
  }
  return out
}

export function resolveProxyTarget(p: ProxyPath, deps: ServiceProxyDeps): ProxyTarget {
  const { store } = deps
  const get = (resource: string, name: string): unknown => store.get({ resource, namespace: p.namespace, name })
  if (p.kind === 'pod') return podProxyLocation(p, get('pods', p.name) as Pod | undefined)
  return serviceProxyLocation(
    p, get('services', p.name) as Service | undefined, get('endpoints', p.name) as EndpointsLike | undefined,
    (ns, name) => store.get({ resource: 'pods', namespace: ns, name }) !== undefined, deps.pick,
  )
}

async function openTarget(target: ProxyTarget, deps: ServiceProxyDeps): Promise<Socket> {
  if (!deps.backend) throw new ApiError(503, 'ServiceUnavailable', 'no dataplane is attached to this API server: the proxy subresource needs `kpe up` (not --control-plane-only)')
  let socket: Socket
  try {
    socket = await deps.backend.connect(target)
  } catch (e) {
    throw new ApiError(503, 'ServiceUnavailable', `error trying to reach ${target.kind}: ${e instanceof Error ? e.message : String(e)}`)
  }
  // Upstream's proxy transport skips verification toward endpoints; kpe's pods serve no TLS, so this fails at the handshake.
  return target.scheme === 'https' ? tlsConnect({ socket, rejectUnauthorized: false }) : socket
}

function forwardedFor(req: IncomingMessage): string {
  const prior = req.headers['x-forwarded-for']
  const peer = req.socket.remoteAddress ?? ''
  return prior ? `${String(prior)}, ${peer}` : peer
}

function upstreamPath(p: ProxyPath, search: string): string {
  return `${p.rest ?? '/'}${search}`
}

export async function handleProxy(req: IncomingMessage, res: ServerResponse, p: ProxyPath, search: string, deps: ServiceProxyDeps): Promise<void> {
  if (p.rest === undefined) {
    // Upstream redirects an empty location path to one ending in '/' (kubernetes/kubernetes#4958).
    res.writeHead(301, { location: `${new URL(req.url ?? '/', 'http://x').pathname}/${search}` })
    res.end()
    return
  }
  const target = resolveProxyTarget(p, deps)
  const socket = await openTarget(target, deps)
  const headers = endToEndHeaders(req.headers)
  // The authentication filter drops credentials before proxying (WithAuthentication).
  delete headers.authorization
  headers.host = `${target.address}:${target.port}`
  headers['x-forwarded-for'] = forwardedFor(req)
  await new Promise<void>((resolve) => {
    const up = request({ createConnection: () => socket, method: req.method, path: upstreamPath(p, search), headers, setHost: false }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, endToEndHeaders(ures.headers))
      ures.pipe(res)
      ures.on('end', resolve)
      ures.on('error', () => { res.destroy(); resolve() })
    })
    up.on('error', (e) => {
      if (!res.headersSent) {
        const status = new ApiError(503, 'ServiceUnavailable', `error trying to reach ${target.kind}: ${e.message}`).toStatus()
        res.writeHead(503, { 'content-type': 'application/json' })
        res.end(JSON.stringify(status))
      } else res.destroy()
      resolve()
    })
    res.on('close', () => { if (!res.writableFinished) up.destroy() })
    req.pipe(up)
  })
}

/** An Upgrade request (WebSocket through the proxy): forward the head, then splice both ways. */
export async function handleProxyUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, p: ProxyPath, search: string, deps: ServiceProxyDeps): Promise<void> {
  const target = resolveProxyTarget(p, deps)
  const socket = await openTarget(target, deps)
  const headers = endToEndHeaders(req.headers, { keepUpgrade: 'keep' })
  delete headers.authorization
  headers.host = `${target.address}:${target.port}`
  headers['x-forwarded-for'] = forwardedFor(req)
  const lines = [`${req.method ?? 'GET'} ${upstreamPath(p, search)} HTTP/1.1`]
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`)
  socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  if (head.length > 0) socket.write(head)
  const teardown = (): void => { socket.destroy(); client.destroy() }
  socket.on('error', teardown)
  client.on('error', teardown)
  socket.on('close', () => client.destroy())
  client.on('close', () => socket.destroy())
  socket.pipe(client)
  client.pipe(socket)
}
