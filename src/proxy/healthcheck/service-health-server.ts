/**
 * kube-proxy's service health server for one node: an HTTP listener on the node's loopback
 * address at each healthCheckNodePort, answering what serviceHealthChecks computed at the last
 * successful sync. Listeners follow the Services: opened when one appears, closed when it goes.
 */
import { createServer, type Server, type ServerResponse } from 'node:http'
import { guardHttpServer } from '../../net/index.js'
import { healthCheckResponse, type ServiceHealthCheck } from '../model/index.js'
import { listenOn } from '../../net/index.js'

export class ServiceHealthServer {
  readonly #address: string
  readonly #log: ((line: string) => void) | undefined
  readonly #servers = new Map<number, Server>()
  #checks = new Map<number, ServiceHealthCheck>()
  #proxyHealthy = false
  /** Syncs run one after another, so a listener is never opened twice. */
  #queue: Promise<void> = Promise.resolve()
  #stopped = false

  constructor(opts: { address: string; log?: (line: string) => void }) {
    this.#address = opts.address
    this.#log = opts.log
  }

  get address(): string {
    return this.#address
  }

  /** Ports listened on now. */
  ports(): number[] {
    return [...this.#servers.keys()].sort((a, b) => a - b)
  }

  /** Takes the checks of a sync: answers change at once, listeners open and close to match. */
  sync(checks: readonly ServiceHealthCheck[], proxyHealthy: boolean): Promise<void> {
    if (this.#stopped) return this.#queue
    this.#queue = this.#queue.then(() => this.#reconcile(checks, proxyHealthy))
    return this.#queue
  }

  async #reconcile(checks: readonly ServiceHealthCheck[], proxyHealthy: boolean): Promise<void> {
    this.#checks = new Map(checks.map((c) => [c.healthCheckNodePort, c]))
    this.#proxyHealthy = proxyHealthy
    for (const [port, server] of this.#servers) {
      if (this.#checks.has(port)) continue
      this.#servers.delete(port)
      server.close()
      server.closeAllConnections()
    }
    for (const [port, check] of this.#checks) {
      if (this.#servers.has(port)) continue
      const server = createServer((req, res) => this.#answer(port, res))
      guardHttpServer(server)
      try {
        await listenOn(server, port, this.#address)
        this.#servers.set(port, server)
      } catch (err) {
        // Upstream records a FailedToStartServiceHealthcheck event and carries on.
        this.#log?.(`health check for ${check.namespace}/${check.name} on ${this.#address}:${port} failed to start: ${(err as Error).message}`)
      }
    }
  }

  #answer(port: number, res: ServerResponse): void {
    const check = this.#checks.get(port)
    if (!check) {
      res.end() // a Service removed between accept and request: upstream's handler writes nothing (an empty 200)
      return
    }
    const { status, body } = healthCheckResponse(check, this.#proxyHealthy)
    // The weight header lets a cloud LB spread by local endpoint count (upstream sets it too).
    res.writeHead(status, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff', 'x-load-balancing-endpoint-weight': String(check.localEndpoints) })
    res.end(body)
  }

  /** Closes every listener; later syncs are ignored. */
  stop(): Promise<void> {
    const closed = this.sync([], false)
    this.#stopped = true
    return closed
  }
}
