/**
 * Cluster DNS, live: follows Services, EndpointSlices and Pods (list+watch), rebuilds the zone
 * on every change, and answers from it over its servers (the host's loopback port and the
 * kube-dns endpoint) and to in-process callers (the entry points, the pod toolbox).
 */
import type { EndpointSlice, Pod, Service } from '../api/index.js'
import { ListWatcher, type ObjectSource } from '../client/index.js'
import { RebuildPacer, systemClock, type Clock, type Timers } from '../runtime/index.js'
import { answerQuestion, type DnsAnswer, type DnsQuestion } from './answer-question.js'
import { DnsServer, type DnsServerAddress } from './dns-server.js'
import { buildDnsZone, type DnsZone } from './dns-zone.js'
import { lookupHost, type HostLookup, type PodResolvConf } from './host-lookup.js'

/** What the entry points and the pod toolbox (nslookup, getent hosts) need from cluster DNS. */
export interface ClusterResolver {
  readonly clusterDomain: string
  /** One question, answered as the DNS server would (rcode, answers, SOA on negative answers). */
  answer(question: DnsQuestion): DnsAnswer
  /** A name's addresses; with a resolv.conf, through its search list. */
  lookupHost(name: string, conf?: Pick<PodResolvConf, 'search' | 'ndots'>): HostLookup | undefined
  /**
   * The addresses of one absolute name, [] for NXDOMAIN or no address: the pod toolbox's
   * resolver contract (nslookup, getent hosts, curl and wget in a pod ask it per search candidate).
   */
  lookup(fqdn: string, signal?: AbortSignal): Promise<readonly string[]>
}

export interface ClusterDnsOptions {
  readonly services: ObjectSource<Service>
  readonly endpointSlices: ObjectSource<EndpointSlice>
  readonly pods: ObjectSource<Pod>
  readonly clusterDomain: string
  readonly timers: Timers
  /** Times zone rebuilds, which are paced by their cost (default: the system clock). */
  readonly clock?: Clock
  readonly log?: (line: string) => void
}

export class ClusterDns implements ClusterResolver {
  readonly #o: ClusterDnsOptions
  readonly #services: ListWatcher<Service>
  readonly #slices: ListWatcher<EndpointSlice>
  readonly #pods: ListWatcher<Pod>
  readonly #servers: DnsServer[] = []
  #zone: DnsZone
  #dirty = false
  #reported = new Set<string>()
  readonly #pacer: RebuildPacer

  constructor(opts: ClusterDnsOptions) {
    this.#o = opts
    this.#pacer = new RebuildPacer(opts.timers, opts.clock ?? systemClock)
    this.#zone = buildDnsZone({ services: [], endpointSlices: [], pods: [], clusterDomain: opts.clusterDomain })
    const handlers = { change: () => this.#changed(), error: (err: unknown) => this.#log(`dns: watch: ${err instanceof Error ? err.message : String(err)}`) }
    this.#services = new ListWatcher(opts.services, handlers, { timers: opts.timers, kind: 'Service' })
    this.#slices = new ListWatcher(opts.endpointSlices, handlers, { timers: opts.timers, kind: 'EndpointSlice' })
    this.#pods = new ListWatcher(opts.pods, handlers, { timers: opts.timers, kind: 'Pod' })
  }

  get clusterDomain(): string {
    return this.#zone.domain
  }

  get zone(): DnsZone {
    return this.#zone
  }

  async start(): Promise<void> {
    await Promise.all([this.#services.start(), this.#slices.start(), this.#pods.start()])
    this.refresh()
  }

  /** Serves the zone on host:port (UDP and TCP); port 0 picks a free one. */
  async serve(host: string, port: number): Promise<DnsServerAddress> {
    const server = new DnsServer({ host, zone: () => this.#zone, ...(this.#o.log ? { log: this.#o.log } : {}) })
    const address = await server.listen(port)
    this.#servers.push(server)
    return address
  }

  answer(question: DnsQuestion): DnsAnswer {
    return answerQuestion(this.#zone, question)
  }

  lookupHost(name: string, conf?: Pick<PodResolvConf, 'search' | 'ndots'>): HostLookup | undefined {
    return lookupHost(this.#zone, name, conf)
  }

  lookup(fqdn: string): Promise<readonly string[]> {
    return Promise.resolve(lookupHost(this.#zone, fqdn)?.addresses ?? [])
  }

  /** Rebuilds the zone from the watched objects now. */
  refresh(): void {
    this.#dirty = false
    this.#zone = this.#pacer.measure(() => buildDnsZone({ services: this.#services.items(), endpointSlices: this.#slices.items(), pods: this.#pods.items(), clusterDomain: this.#o.clusterDomain }))
    const now = new Set<string>()
    for (const s of this.#zone.skipped) {
      const id = `${s.kind} ${s.key}: ${s.error}`
      now.add(id)
      if (!this.#reported.has(id)) this.#log(`dns: ${s.kind} ${s.key} left out of the cluster zone: ${s.error}`)
    }
    this.#reported = now
  }

  stop(): void {
    this.#pacer.stop()
    this.#services.stop()
    this.#slices.stop()
    this.#pods.stop()
    for (const s of this.#servers.splice(0)) s.close()
  }

  #changed(): void {
    if (this.#dirty) return
    this.#dirty = true
    this.#pacer.schedule(() => {
      try {
        this.refresh()
      } catch (err) {
        // The previous zone keeps answering; the next change tries again.
        this.#log(`dns: rebuilding the cluster zone failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    })
  }

  #log(line: string): void {
    this.#o.log?.(line)
  }
}
