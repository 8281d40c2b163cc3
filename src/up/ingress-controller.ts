/**
 * The built-in Ingress controller of `kpe up`: the `kpe` IngressClass (default), HTTP and HTTPS
 * listeners on loopback that send each request to the backend Service through the first node's
 * dataplane (so the Service's rules pick the pod; both hops are in `kpe connections`), TLS with
 * the referenced Secret's certificate per SNI host, and status.loadBalancer.ingress written.
 */
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { createSecureContext, type SecureContext } from 'node:tls'
import type { Service } from '../api/index.js'
import { createServingCertificates, findByKind } from '../apiserver/index.js'
import { ListWatcher } from '../client/index.js'
import type { ControlPlane } from '../cluster/index.js'
import { buildIngressRoutes, isDefaultIngressClass, kpeIngressClassName, kpeIngressController, defaultIngressClassAnnotation, matchIngress, tlsSecretFor, requestHost, type IngressBackendRef, type IngressRoutes } from '../ingress/index.js'
import { guardHttpServer } from '../net/index.js'
import { externalClientAddress, type ConnectionLog } from '../proxy/userspace/index.js'
import { realTimers } from '../runtime/index.js'
import type { KubeObject } from '../store/index.js'
import type { DataplaneServiceProxy } from './api-proxy-backend.js'
import { storeObjectSource } from './store-source.js'

export const ingressEntry = 'ingress'
const ingressesKey = 'ingresses.networking.k8s.io'
const classesKey = 'ingressclasses.networking.k8s.io'
const ingressInfo = findByKind('networking.k8s.io/v1', 'Ingress')!
const loopback = '127.0.0.1'
/** Per listener, as the other entry points' defaults (docs/security.md). */
const maxConnections = 1024
const headersTimeoutMs = 10_000
const requestTimeoutMs = 60_000

export interface IngressControllerOptions {
  readonly controlPlane: ControlPlane
  /** Dials Services through the first node's dataplane (entry "ingress"). */
  readonly dialer: DataplaneServiceProxy
  readonly log: ConnectionLog
  readonly httpPort?: number
  readonly httpsPort?: number
  /** The ports are defaults, not asked for: a taken one is a warning, not a failure. */
  readonly portsAreDefault?: boolean
  readonly logLine?: (line: string) => void
  /** LoadBalancer IPs the controller is also reached on (its kpe-ingress Service), after loopback in status. */
  readonly publishedIPs?: () => readonly string[]
}

export function kpeIngressClass(): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
    metadata: { name: kpeIngressClassName, annotations: { [defaultIngressClassAnnotation]: 'true' } },
    spec: { controller: kpeIngressController },
  }
}

/** A backend Service and port -> the ClusterIP and port number to dial, or why not. */
export function backendAddress(svc: Service | undefined, ref: IngressBackendRef): { readonly ip: string; readonly port: number } | { readonly error: string } {
  if (!svc) return { error: `service "${ref.namespace}/${ref.service}" not found` }
  const ip = svc.spec.clusterIP
  if (!ip || ip === 'None') return { error: `service "${ref.namespace}/${ref.service}" has no ClusterIP` }
  const ports = svc.spec.ports ?? []
  if (!Array.isArray(ports)) return { error: `service "${ref.namespace}/${ref.service}": spec.ports is not a list` }
  const port = ports.find((p) => (typeof ref.port === 'number' ? p.port === ref.port : p.name === ref.port))
  if (!port) return { error: `service "${ref.namespace}/${ref.service}" has no port ${String(ref.port)}` }
  return { ip, port: port.port }
}

export class IngressController {
  readonly #o: IngressControllerOptions
  readonly #watch: ListWatcher<KubeObject>
  #routes: { rv: number; routes: IngressRoutes } | undefined
  readonly #contexts = new Map<string, { rv: string; context: SecureContext }>()
  #http: HttpServer | undefined
  #https: HttpsServer | undefined
  readonly ports: { http?: number; https?: number } = {}

  constructor(o: IngressControllerOptions) {
    this.#o = o
    const store = o.controlPlane.store
    this.#watch = new ListWatcher(storeObjectSource<KubeObject>(store, ingressesKey), {
      change: (_prev, cur) => { if (cur) void this.#writeStatus(cur) },
      error: (err) => this.#line(`ingress: watch: ${err instanceof Error ? err.message : String(err)}`),
    }, { timers: realTimers, kind: 'Ingress' })
  }

  async start(): Promise<void> {
    const client = this.#o.controlPlane.client
    try {
      await client.apply(kpeIngressClass(), 'kpe-ingress')
    } catch (err) {
      this.#line(`kpe up: warning: IngressClass ${kpeIngressClassName} not installed: ${err instanceof Error ? err.message : String(err)}`)
    }
    await this.#watch.start()
    if (this.#o.httpPort) {
      const server = createHttpServer((req, res) => this.#serve(req, res, 'http'))
      guardHttpServer(server)
      this.ports.http = await this.#listen(server, this.#o.httpPort)
      if (this.ports.http !== undefined) this.#http = server
    }
    if (this.#o.httpsPort) {
      const fallback = await createServingCertificates(new Date())
      const server = createHttpsServer({ cert: fallback.certPem, key: fallback.keyPem, SNICallback: (name, cb) => cb(null, this.#contextFor(name)) }, (req, res) => this.#serve(req, res, 'https'))
      guardHttpServer(server)
      this.ports.https = await this.#listen(server, this.#o.httpsPort)
      if (this.ports.https !== undefined) this.#https = server
    }
  }

  stop(): void {
    this.#watch.stop()
    this.#http?.close()
    this.#https?.close()
    this.#http?.closeAllConnections()
    this.#https?.closeAllConnections()
  }

  /** The routes of the current Ingresses, rebuilt when the store has changed. */
  routes(): IngressRoutes {
    const store = this.#o.controlPlane.store
    if (this.#routes?.rv !== store.resourceVersion) {
      const cls = store.get({ resource: classesKey, namespace: '', name: kpeIngressClassName })
      const routes = buildIngressRoutes(store.list(ingressesKey).items, isDefaultIngressClass(cls))
      for (const s of routes.skipped) if (!this.#routes?.routes.skipped.some((o) => o.ingress === s.ingress && o.error === s.error)) this.#line(`ingress: Ingress ${s.ingress} not served: ${s.error}`)
      this.#routes = { rv: store.resourceVersion, routes }
    }
    return this.#routes.routes
  }

  async #listen(server: HttpServer | HttpsServer, port: number): Promise<number | undefined> {
    server.maxConnections = maxConnections
    server.headersTimeout = headersTimeoutMs
    server.requestTimeout = requestTimeoutMs
    try {
      return await new Promise<number>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, loopback, () => {
          server.off('error', reject)
          resolve((server.address() as { port: number }).port)
        })
      })
    } catch (err) {
      if (!this.#o.portsAreDefault || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
      this.#line(`kpe up: warning: ${loopback}:${port} is in use; the Ingress controller does not serve it (choose with --ingress-port / --ingress-tls-port)`)
      return undefined
    }
  }

  /** The certificate of the Secret an Ingress names for this SNI host; the fallback certificate otherwise. */
  #contextFor(sni: string): SecureContext | undefined {
    const ref = tlsSecretFor(this.routes(), sni)
    if (!ref) return undefined
    const secret = this.#o.controlPlane.store.get({ resource: 'secrets', namespace: ref.namespace, name: ref.name })
    const data = secret?.['data'] as Record<string, string> | undefined
    if (!secret || typeof data?.['tls.crt'] !== 'string' || typeof data['tls.key'] !== 'string') {
      this.#line(`ingress: TLS for ${requestHost(sni)}: secret "${ref.namespace}/${ref.name}" not found or without tls.crt/tls.key; the fallback certificate is served`)
      return undefined
    }
    const key = `${ref.namespace}/${ref.name}`
    const rv = String(secret.metadata.resourceVersion ?? '')
    const cached = this.#contexts.get(key)
    if (cached?.rv === rv) return cached.context
    try {
      const context = createSecureContext({ cert: Buffer.from(data['tls.crt'], 'base64'), key: Buffer.from(data['tls.key'], 'base64') })
      this.#contexts.set(key, { rv, context })
      return context
    } catch (err) {
      this.#line(`ingress: secret "${key}": tls.crt/tls.key unusable: ${err instanceof Error ? err.message : String(err)}`)
      return undefined
    }
  }

  /** One request; whatever an object in the store holds, it ends in an answer, never a crash. */
  #serve(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https'): void {
    try {
      this.#route(req, res, scheme)
    } catch (err) {
      this.#line(`ingress: ${req.headers.host ?? ''}${req.url ?? ''}: ${err instanceof Error ? err.message : String(err)}`)
      if (!res.headersSent) this.#answer(res, 500, '500 Internal Server Error\n')
      else res.destroy()
    }
  }

  #route(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https'): void {
    const host = requestHost(req.headers.host)
    const path = req.url ?? '/'
    const client = externalClientAddress(req.socket.remoteAddress)
    const match = matchIngress(this.routes(), host, path)
    const local = req.socket.localPort ?? 0
    // Hop one: the client reaches the controller itself (its rule choice is the "endpoint").
    const hop = (verdict: 'forward' | 'refused', reason: string): void => {
      this.#o.log.add({
        at: Date.now(), entry: ingressEntry, client: `external host ${client}`, destination: `${scheme}://${host}${path}`, node: this.#o.dialer.dataplane?.defaultNode ?? '', verdict, reason,
        ...(verdict === 'forward' ? { endpoint: `${loopback}:${local}`, pod: `ingress controller: ${reason}`, seen: `${client}:${req.socket.remotePort ?? 0}` } : {}),
      })
    }
    if (!match) {
      hop('refused', 'no Ingress rule and no default backend matches')
      return this.#answer(res, 404, 'default backend - 404\n')
    }
    const svc = this.#o.controlPlane.store.get({ resource: 'services', namespace: match.backend.namespace, name: match.backend.service }) as unknown as Service | undefined
    const target = backendAddress(svc, match.backend)
    if ('error' in target) {
      hop('refused', `${match.ingress} ${match.rule}: ${target.error}`)
      return this.#answer(res, 503, `503 Service Unavailable: ${target.error}\n`)
    }
    hop('forward', `${match.ingress} ${match.rule} -> service ${match.backend.namespace}/${match.backend.service}:${target.port}`)
    this.#forward(req, res, target, scheme, client)
  }

  #forward(req: IncomingMessage, res: ServerResponse, target: { ip: string; port: number }, scheme: string, client: string): void {
    const fail = (status: number, why: string): void => {
      if (!res.headersSent) this.#answer(res, status, `${status === 502 ? '502 Bad Gateway' : '504 Gateway Timeout'}: ${why}\n`)
      else res.destroy()
    }
    this.#o.dialer.connect({ address: target.ip, port: target.port }).then((socket) => {
      const headers = { ...req.headers, 'x-forwarded-for': client, 'x-forwarded-host': req.headers.host ?? '', 'x-forwarded-proto': scheme, 'x-real-ip': client }
      const upstream = httpRequest({ method: req.method, path: req.url, headers, createConnection: () => socket }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
        up.on('error', () => res.destroy())
      })
      upstream.on('error', (err) => fail(502, err.message))
      req.pipe(upstream)
      res.on('close', () => socket.destroy())
    }, (err: unknown) => fail(502, err instanceof Error ? err.message : String(err)))
  }

  #answer(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  /** Writes every served Ingress's status again (once the published IPs are known). */
  async republish(): Promise<void> {
    for (const ing of this.#o.controlPlane.store.list(ingressesKey).items) await this.#writeStatus(ing)
  }

  /** status.loadBalancer.ingress: the loopback address kpe serves Ingresses on, then the published IPs. */
  async #writeStatus(ing: KubeObject): Promise<void> {
    const key = `${ing.metadata.namespace ?? 'default'}/${ing.metadata.name ?? ''}`
    if (!this.routes().ingresses.includes(key)) return
    const want = [loopback, ...(this.#o.publishedIPs?.() ?? [])].map((ip) => ({ ip }))
    const status = ing['status'] as { loadBalancer?: { ingress?: unknown } } | undefined
    if (JSON.stringify(status?.loadBalancer?.ingress ?? []) === JSON.stringify(want)) return
    try {
      await this.#o.controlPlane.client.updateStatus(ingressInfo, { ...ing, status: { loadBalancer: { ingress: want } } } as KubeObject)
    } catch (err) {
      // A conflict means a newer version is on its way through the watch, which writes again.
      this.#line(`ingress: status of ${key}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  #line(line: string): void {
    this.#o.logLine?.(line)
  }
}
