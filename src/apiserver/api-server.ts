/**
 * The HTTP shell: binds 127.0.0.1:port (0 picks a free one), routes requests to version,
 * discovery, OpenAPI and resource handlers, upgrades watch requests to WebSocket and
 * pods/NAME/portforward to SPDY, and maps every failure to a Status reply. Creates the built-in
 * namespaces on start.
 */
import { randomInt, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { WebSocketServer } from 'ws'
import { guardHttpServer } from '../net/index.js'
import { isStoreError, type ObjectStore, type WatchHandle } from '../store/index.js'
import type { AdmissionHook } from './admission.js'
import { ApiError, pathNotFound, toApiError } from './api-error.js'
import { authenticate } from './authentication.js'
import { checkLocalRequest, localAuthority, type LocalAuthority } from './local-origin.js'
import type { ServingCertificates } from './serving-certificates.js'
import type { StaticTokens } from './token-file.js'
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js'
import { aggregatedContentType, decodeObjectBody, mediaType, readBody, sendError, sendJson, wantsAggregatedDiscovery } from './http-io.js'
import { systemClock, type Clock } from '../runtime/index.js'
import type { IdSource } from './object-meta.js'
import { openApiGroupVersion, openApiIndex, openApiV2, openApiV2Form, openApiV2Protobuf, versionInfo } from './openapi.js'
import { openApiV2ProtobufContentType, openApiV2ProtobufType } from './openapi-v2-protobuf.js'
import { answerReview, isAccessReview, requestUser } from './access-reviews.js'
import { bindingsResource, ResourceCatalogue, servedResources, type Pod } from '../api/index.js'
import type { PortForwardBackend } from './port-forward.js'
import { PortForwardUpgrader } from './port-forward-upgrade.js'
import { RemoteCommandUpgrader, type RemoteCommandBackend } from './remote-command/index.js'
import { handlePodLog, podLogTarget, type PodLogBackend } from './pod-log.js'
import { parseProxyPath } from './proxy-path.js'
import { parsePath, type ParsedPath, type ResourceTarget } from './request-path.js'
import { isWatchRequest } from './list-options.js'
import { handleResource, watchParams, type HandlerDeps } from './resource-handler.js'
import { handleProxy, handleProxyUpgrade, type ServiceProxyBackend, type ServiceProxyDeps } from './service-proxy.js'
import { defaultWatchBufferBytes, startWatch } from './watch.js'
import { acceptWebSocket, createWebSocketServer, webSocketSink } from './websocket-watch.js'
import { customResourceAdmission, customResourceDefinitionsInfo } from './crd/admission.js'
import { syncCustomResources } from './crd/catalogue-sync.js'
import { GarbageCollector } from './garbage-collector.js'

export interface ApiServerOptions {
  readonly store: ObjectStore
  readonly host?: string
  readonly port?: number
  readonly clock?: Clock
  readonly ids?: IdSource
  readonly admissionHooks?: readonly AdmissionHook[]
  /** Interval between BOOKMARK events on watches that allow them. Default 60 s. */
  readonly bookmarkIntervalMs?: number
  /** Carries the services/pods `proxy` subresources to endpoints; without one they answer 503. */
  readonly serviceProxy?: ServiceProxyBackend
  /** Dials into pods for the pods/portforward subresource; without one it answers 503. */
  readonly portForward?: PortForwardBackend
  /** Runs commands for pods/exec and pods/attach; without one they answer 503. */
  readonly remoteCommand?: RemoteCommandBackend
  /** Reads container logs for the pods/log subresource; without one it answers 503. */
  readonly podLogs?: PodLogBackend
  /** Connection, timeout and buffer limits (defaultApiServerLimits fills in the rest). */
  readonly limits?: Partial<ApiServerLimits>
  /** Bearer tokens (`kpe up --token-file`): every request but health and version must carry one. */
  readonly tokens?: StaticTokens
  /** Serve HTTPS with these (`kpe up --tls`). */
  readonly tls?: ServingCertificates
  /** Failures of the garbage collector's background work (the requests themselves answer their own). */
  readonly onBackgroundError?: (what: string, error: unknown) => void
}

export interface ApiServerLimits {
  /** Open connections (watches included); past it, new connections are closed at once. */
  readonly maxConnections: number
  /** A client must send its whole request head within this. */
  readonly headersTimeoutMs: number
  /** ... and its whole request (head and body) within this. */
  readonly requestTimeoutMs: number
  /** Unread bytes a watcher may fall behind by before it is closed with 410 (watch.ts). */
  readonly watchBufferBytes: number
}

export const defaultApiServerLimits: ApiServerLimits = {
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  watchBufferBytes: defaultWatchBufferBytes,
}

/** pods/NAME/portforward: an upgrade only (kube-apiserver answers a plain request with 400). */
function portForwardTarget(p: ParsedPath, subresource: 'portforward' | 'exec' | 'attach' = 'portforward'): (ResourceTarget & { readonly namespace: string; readonly name: string }) | undefined {
  if (p.kind !== 'resource') return undefined
  const t = p.target
  if (t.info.group !== '' || t.info.resource !== 'pods' || t.subresource !== subresource || t.namespace === undefined || t.name === undefined) return undefined
  return { ...t, namespace: t.namespace, name: t.name }
}

/** pods/NAME/exec and pods/NAME/attach: upgrades only, like portforward. */
function remoteCommandTarget(p: ParsedPath): (ResourceTarget & { readonly namespace: string; readonly name: string; readonly kind: 'exec' | 'attach' }) | undefined {
  for (const kind of ['exec', 'attach'] as const) {
    const t = portForwardTarget(p, kind)
    if (t) return { ...t, kind }
  }
  return undefined
}

const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const
const suffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789'

export const randomIds: IdSource = {
  uid: () => randomUUID(),
  nameSuffix: () => Array.from({ length: 5 }, () => suffixAlphabet[randomInt(suffixAlphabet.length)]).join(''),
}

export class ApiServer {
  readonly #deps: HandlerDeps
  readonly #server: Server
  readonly #wss: WebSocketServer
  readonly #host: string
  readonly #port: number
  #authority: LocalAuthority | undefined
  readonly #proxy: ServiceProxyDeps
  readonly #portForward = new PortForwardUpgrader()
  readonly #portForwardBackend: PortForwardBackend | undefined
  readonly #remoteCommand = new RemoteCommandUpgrader()
  readonly #remoteCommandBackend: RemoteCommandBackend | undefined
  readonly #podLogs: PodLogBackend | undefined
  readonly #tokens: StaticTokens | undefined
  readonly #scheme: 'http' | 'https'
  /** The built-in kinds, CustomResourceDefinitions, and what the stored CRDs define. */
  readonly #catalogue = new ResourceCatalogue([...servedResources, bindingsResource, customResourceDefinitionsInfo])
  #crdSync: WatchHandle | undefined
  readonly #collector: GarbageCollector

  private constructor(opts: ApiServerOptions) {
    const clock = opts.clock ?? systemClock
    const limits = { ...defaultApiServerLimits, ...opts.limits }
    const writeDeps = { store: opts.store, clock, ids: opts.ids ?? randomIds, hooks: [customResourceAdmission(clock), ...opts.admissionHooks ?? []], catalogue: this.#catalogue }
    this.#collector = new GarbageCollector(writeDeps, opts.onBackgroundError)
    this.#deps = {
      ...this.#collector.deps,
      watch: { store: opts.store, now: () => clock.now(), bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, maxBufferBytes: limits.watchBufferBytes },
    }
    this.#host = opts.host ?? '127.0.0.1'
    this.#port = opts.port ?? 6443
    this.#proxy = { store: opts.store, backend: opts.serviceProxy, pick: (n) => randomInt(n) }
    this.#portForwardBackend = opts.portForward
    this.#remoteCommandBackend = opts.remoteCommand
    this.#podLogs = opts.podLogs
    this.#wss = createWebSocketServer()
    // node:http refuses a head timeout longer than the whole-request one.
    const timeouts = { headersTimeout: limits.headersTimeoutMs, requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs), connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs) }
    this.#tokens = opts.tokens
    this.#scheme = opts.tls ? 'https' : 'http'
    const handler = (req: IncomingMessage, res: ServerResponse): void => { void this.#handle(req, res) }
    this.#server = opts.tls ? createHttpsServer({ ...timeouts, cert: opts.tls.certPem, key: opts.tls.keyPem }, handler) : createServer(timeouts, handler)
    this.#server.maxConnections = limits.maxConnections
    guardHttpServer(this.#server)
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { void this.#upgrade(req, socket, head) })
  }

  static async start(opts: ApiServerOptions): Promise<ApiServer> {
    const s = new ApiServer(opts)
    await s.#bootstrap()
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject)
      s.#server.listen(s.#port, s.#host, () => resolve())
    })
    // every request is checked against this authority: worked out once, not per request
    s.#authority = localAuthority(s.#host, s.port, s.#scheme)
    return s
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  /** What this server serves now (built-ins and the stored CRDs' resources), for in-process clients. */
  get catalogue(): ResourceCatalogue {
    return this.#catalogue
  }

  /** The admission chain HTTP writes go through (custom-resource schema checks first). */
  get admissionHooks(): readonly AdmissionHook[] {
    return this.#deps.hooks
  }

  get url(): string {
    return `${this.#scheme}://${this.#host.includes(':') ? `[${this.#host}]` : this.#host}:${this.port}`
  }

  /** The garbage collector's write deps: in-process clients that use them cascade deletions at once too. */
  get garbageCollector(): GarbageCollector {
    return this.#collector
  }

  async close(): Promise<void> {
    this.#collector.stop()
    this.#crdSync?.stop()
    for (const c of this.#wss.clients) c.terminate()
    this.#portForward.closeAll()
    this.#remoteCommand.closeAll()
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  async #bootstrap(): Promise<void> {
    for (const name of systemNamespaces) {
      if (this.#deps.store.get({ resource: 'namespaces', namespace: '', name })) continue
      await this.#deps.store.create('namespaces', {
        apiVersion: 'v1', kind: 'Namespace',
        metadata: { name, uid: this.#deps.ids.uid(), creationTimestamp: new Date(this.#deps.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'), labels: { 'kubernetes.io/metadata.name': name } },
        spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
      }).catch((e: unknown) => { if (!isStoreError(e, 'AlreadyExists')) throw e })
    }
    this.#crdSync = syncCustomResources(this.#deps.store, this.#catalogue)
    this.#collector.start()
  }

  /**
   * Before anything else: Host and Origin must name this server (no DNS rebinding, no requests
   * from web pages; local-origin.ts), then the bearer token when tokens are configured.
   */
  #admitRequest(req: IncomingMessage, url: URL): void {
    const refusal = checkLocalRequest(req.headers, this.#authority ?? localAuthority(this.#host, this.port, this.#scheme))
    if (refusal !== undefined) throw new ApiError(403, 'Forbidden', refusal)
    authenticate(this.#tokens, req.headers.authorization, url.pathname)
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost')
      this.#admitRequest(req, url)
      await this.#route(req, res, url)
    } catch (e) {
      sendError(res, toApiError(e), req)
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const proxy = parseProxyPath(url.pathname)
    if (proxy?.kind === 'invalid') throw new ApiError(400, 'BadRequest', proxy.reason)
    if (proxy) return handleProxy(req, res, proxy, url.search, this.#proxy)
    const p = parsePath(url.pathname, this.#catalogue)
    if (portForwardTarget(p) || remoteCommandTarget(p)) throw new ApiError(400, 'BadRequest', 'Upgrade request required')
    const log = podLogTarget(p)
    if (log) return handlePodLog(req, res, log, url.searchParams, { store: this.#deps.store, backend: this.#podLogs, now: () => this.#deps.clock.now() })
    const getOnly = (): void => { if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError(405, 'MethodNotAllowed', 'only GET is supported here') }
    const found = (doc: unknown): unknown => { if (doc === undefined) throw pathNotFound(); return doc }
    switch (p.kind) {
      case 'version': getOnly(); return sendJson(res, 200, versionInfo())
      case 'health': res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('ok'); return
      case 'api-versions':
        getOnly()
        return wantsAggregatedDiscovery(req) ? sendJson(res, 200, aggregatedDiscovery('core', this.#catalogue), aggregatedContentType) : sendJson(res, 200, apiVersions(`${this.#host}:${this.port}`))
      case 'api-groups':
        getOnly()
        return wantsAggregatedDiscovery(req) ? sendJson(res, 200, aggregatedDiscovery('groups', this.#catalogue), aggregatedContentType) : sendJson(res, 200, apiGroupList(this.#catalogue))
      case 'api-group': getOnly(); return sendJson(res, 200, found(apiGroup(p.group, this.#catalogue)))
      case 'resource-list': getOnly(); return sendJson(res, 200, found(apiResourceList(p.group, p.version, this.#catalogue)))
      case 'openapi-index': getOnly(); return sendJson(res, 200, openApiIndex(this.#catalogue))
      case 'openapi-gv': getOnly(); return sendJson(res, 200, found(openApiGroupVersion(p.group, p.version, this.#catalogue)))
      case 'openapi-v2': {
        getOnly()
        const form = openApiV2Form(req.headers.accept)
        if (form === undefined) throw new ApiError(406, 'NotAcceptable', `/openapi/v2 is served as application/json or ${openApiV2ProtobufType}`)
        if (form === 'json') return sendJson(res, 200, openApiV2())
        const body = openApiV2Protobuf()
        res.writeHead(200, { 'Content-Type': openApiV2ProtobufContentType, 'Content-Length': body.byteLength })
        res.end(body)
        return
      }
      case 'resource':
        if (isAccessReview(p.target.info)) {
          const body = req.method === 'POST' ? decodeObjectBody(await readBody(req), mediaType(req)) : undefined
          return sendJson(res, 201, answerReview(p.target.info, req.method, body, url.searchParams, requestUser(this.#tokens, req.headers.authorization)))
        }
        return handleResource(req, res, this.#deps, p.target, url.searchParams)
      case 'unknown': throw pathNotFound()
    }
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost')
      this.#admitRequest(req, url)
      const proxy = parseProxyPath(url.pathname)
      if (proxy?.kind === 'invalid') throw new ApiError(400, 'BadRequest', proxy.reason)
      if (proxy) return await handleProxyUpgrade(req, socket, head, proxy, url.search, this.#proxy)
      const p = parsePath(url.pathname, this.#catalogue)
      const pf = portForwardTarget(p)
      if (pf) {
        const { store } = this.#deps
        const pod = (): Pod | undefined => store.get({ resource: 'pods', namespace: pf.namespace, name: pf.name }) as Pod | undefined
        return this.#portForward.upgrade(req, socket, head, { namespace: pf.namespace, name: pf.name, pod, backend: this.#portForwardBackend })
      }
      const rc = remoteCommandTarget(p)
      if (rc) {
        const { store } = this.#deps
        const pod = (): Pod | undefined => store.get({ resource: 'pods', namespace: rc.namespace, name: rc.name }) as Pod | undefined
        return this.#remoteCommand.upgrade(req, socket, head, { kind: rc.kind, namespace: rc.namespace, name: rc.name, params: url.searchParams, pod, backend: this.#remoteCommandBackend })
      }
      if (p.kind !== 'resource' || !isWatchRequest(url.searchParams) || p.target.name !== undefined) throw pathNotFound()
      const params = watchParams(req, p.target, url.searchParams)
      const ws = await acceptWebSocket(this.#wss, req, socket, head)
      startWatch(this.#deps.watch, params, webSocketSink(ws))
    } catch (e) {
      const status = toApiError(e).toStatus()
      const body = JSON.stringify(status)
      socket.end(`HTTP/1.1 ${status.code} ${status.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    }
  }
}
