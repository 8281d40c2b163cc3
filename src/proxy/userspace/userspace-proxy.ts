/**
 * The userspace proxy's shell: follows Services and Pods (list+watch) to keep the cluster index
 * current, and runs the entry points (NodePort listeners on each node's loopback address, the
 * SOCKS5 proxy, the HTTP proxy) over one ClusterDataplane. Listens on loopback only.
 */
import type { Node, Pod, Service } from '../../api/index.js'
import { ListWatcher, type ObjectSource } from '../../client/index.js'
import type { SeenSourceTable } from '../../kubelet/index.js'
import { RebuildPacer, type Timers } from '../../runtime/index.js'
import { buildClusterIndex, type NameResolver, type SkippedObject } from './cluster-index.js'
import { ClusterDataplane, defaultUserspaceLimits, type UserspaceLimits } from './cluster-dataplane.js'
import { ConnectionLog } from './connection-log.js'
import { HttpProxyServer } from './http-proxy.js'
import type { NodeDataplane } from './node-dataplane.js'
import { NodePortListeners, type NodeLoopback } from './nodeport-listeners.js'
import { Socks5Server } from './socks5-server.js'
import { printable } from '../../printable.js'

export interface UserspaceProxyOptions {
  readonly services: ObjectSource<Service>
  readonly pods: ObjectSource<Pod>
  readonly nodes: readonly Node[]
  readonly dataplanes: ReadonlyMap<string, NodeDataplane>
  readonly nodeLoopbacks: readonly NodeLoopback[]
  readonly seen: SeenSourceTable
  readonly timers: Timers
  readonly clock: { now(): number }
  /** Port for SOCKS5 (0: any free port; undefined: none). */
  readonly socksPort?: number
  /** Port for the HTTP proxy (0: any free port; undefined: none). */
  readonly httpProxyPort?: number
  readonly limits?: Partial<UserspaceLimits>
  readonly log?: (line: string) => void
  /** Cluster DNS: names are resolved through it (and the index takes its cluster domain). */
  readonly resolver?: NameResolver & { readonly clusterDomain: string }
}

/** 127.0.10.1, 127.0.10.2, ... for the nodes in name order. */
/** Entry-point log lines carry client-supplied names: escaped on the way out (printable.ts). */
function printableLog(log: (line: string) => void): (line: string) => void {
  return (line) => log(printable(line))
}

export function defaultNodeLoopbacks(nodes: readonly string[], prefix = '127.0.10.'): NodeLoopback[] {
  return [...nodes].sort().map((node, i) => ({ node, address: `${prefix}${i + 1}` }))
}

export class UserspaceProxy {
  readonly #o: UserspaceProxyOptions
  readonly #dp: ClusterDataplane
  readonly #nodePorts: NodePortListeners
  readonly #services: ListWatcher<Service>
  readonly #pods: ListWatcher<Pod>
  readonly log = new ConnectionLog()
  #socks: Socks5Server | undefined
  #http: HttpProxyServer | undefined
  #refresh: Promise<void> | undefined
  #dirty = false
  #skipped = new Set<string>()
  #ports: { socks?: number; http?: number } = {}
  readonly #pacer: RebuildPacer

  constructor(opts: UserspaceProxyOptions) {
    this.#o = opts
    this.#pacer = new RebuildPacer(opts.timers, opts.clock)
    const limits = { ...defaultUserspaceLimits, ...opts.limits }
    const defaultNode = [...opts.dataplanes.keys()].sort()[0] ?? ''
    this.#dp = new ClusterDataplane({
      nodes: opts.dataplanes,
      index: buildClusterIndex({ services: [], pods: [], nodes: opts.nodes }),
      defaultNode,
      seen: opts.seen,
      log: this.log,
      limits,
      clock: opts.clock,
      ...(opts.log ? { logger: printableLog(opts.log) } : {}),
    })
    this.#nodePorts = new NodePortListeners(this.#dp, opts.nodeLoopbacks, opts.clock, opts.log)
    const onChange = { change: () => this.#changed(), error: (err: unknown) => this.#log(`watch: ${err instanceof Error ? err.message : String(err)}`) }
    this.#services = new ListWatcher(opts.services, onChange, { timers: opts.timers, kind: 'Service' })
    this.#pods = new ListWatcher(opts.pods, onChange, { timers: opts.timers, kind: 'Pod' })
  }

  get dataplane(): ClusterDataplane {
    return this.#dp
  }

  get ports(): { readonly socks?: number; readonly http?: number } {
    return this.#ports
  }

  nodePortListeners(): string[] {
    return this.#nodePorts.listening()
  }

  async start(): Promise<void> {
    await Promise.all([this.#services.start(), this.#pods.start()])
    await this.refresh()
    if (this.#o.socksPort !== undefined) {
      this.#socks = new Socks5Server(this.#dp, this.#o.clock)
      this.#ports.socks = await this.#socks.listen(this.#o.socksPort)
    }
    if (this.#o.httpProxyPort !== undefined) {
      this.#http = new HttpProxyServer(this.#dp)
      this.#ports.http = await this.#http.listen(this.#o.httpProxyPort)
    }
  }

  /** Rebuilds the index from the watched objects and reconciles the NodePort listeners. */
  async refresh(): Promise<void> {
    while (this.#refresh) await this.#refresh
    this.#refresh = (async () => {
      this.#dirty = false
      const dns = this.#o.resolver ? { resolver: this.#o.resolver, clusterDomain: this.#o.resolver.clusterDomain } : {}
      const index = this.#pacer.measure(() => buildClusterIndex({ services: this.#services.items(), pods: this.#pods.items(), nodes: this.#o.nodes, ...dns }))
      this.#reportSkipped(index.skipped)
      this.#dp.setIndex(index)
      await this.#nodePorts.reconcile(index.nodePorts)
    })().finally(() => {
      this.#refresh = undefined
    })
    await this.#refresh
  }

  stop(): void {
    this.#pacer.stop()
    this.#services.stop()
    this.#pods.stop()
    this.#nodePorts.close()
    this.#socks?.close()
    this.#http?.close()
  }

  #changed(): void {
    if (this.#dirty) return
    this.#dirty = true
    this.#pacer.schedule(() => {
      this.refresh().catch((err: unknown) => this.#log(`refreshing the cluster index failed: ${err instanceof Error ? err.message : String(err)}`))
    })
  }

  /** Each unreadable object once, when it first shows up (the index is rebuilt on every change). */
  #reportSkipped(skipped: readonly SkippedObject[]): void {
    const now = new Set<string>()
    for (const o of skipped) {
      const id = `${o.kind} ${o.key}: ${o.error}`
      now.add(id)
      if (!this.#skipped.has(id)) this.#log(`userspace proxy: ${o.kind} ${o.key} left out of the cluster index: ${o.error}`)
    }
    this.#skipped = now
  }

  #log(line: string): void {
    this.#o.log?.(line)
  }
}
