/**
 * The pod toolbox's I/O shell for `kpe up`: builds a container's toolbox context from the store
 * (its environment with the Service variables, /etc/hosts, /etc/resolv.conf, its in-memory
 * files, kept per container while the pod lives) and gives it a dialer that leaves as the pod
 * (through its node's dataplane, logged as `kubectl exec`) and a resolver over the cluster's
 * Service names, which a DNS server can replace.
 */
import type { Duplex } from 'node:stream'
import type { Node, Pod, Service } from '../api/index.js'
import {
  containerEnvironment, DialError, MemoryFilesystem, renderHostsFile, renderResolvConf,
  type PodDialer, type PodResolver, type ToolboxContext,
} from '../kubelet/index.js'
import { podResolvConf, type ClusterResolver, type PodResolvConf } from '../dns/index.js'
import { parseServiceDnsName } from '../proxy/model/index.js'
import type { ClusterDataplane, StartedPod } from '../proxy/userspace/index.js'
import { dialThroughDataplane } from './dataplane-dial.js'
import type { EphemeralPorts } from './ephemeral-ports.js'

export const podToolboxEntry = 'kubectl exec'

/** When a connect that nobody answers gives up: Linux's default tcp_syn_retries (6) takes about 127 s. */
export const synRetriesGiveUpMs = 127_000

/**
 * Connections from inside a pod's own network namespace (the kernel dataplane): the kernel's
 * rules decide. Answers undefined for a pod it has no namespace for, which then dials through
 * its node's userspace dataplane as before.
 */
export interface PodNetworkDialer {
  dial(pod: { readonly namespace: string; readonly name: string }, ip: string, port: number, signal: AbortSignal): Promise<Duplex> | undefined
}

/** What the toolbox reads from the cluster's objects. */
export interface ToolboxObjects {
  services(): readonly Service[]
  node(name: string): Node | undefined
  /** UIDs of the pods that exist now (files of other pods are dropped). */
  podUIDs(): ReadonlySet<string>
}

/** Resolves NAME.NAMESPACE.svc.DOMAIN to the Service's ClusterIPs, as cluster DNS answers A/AAAA queries. */
export class ClusterNameResolver implements PodResolver {
  constructor(private readonly dataplane: () => ClusterDataplane | undefined) {}

  async lookup(fqdn: string): Promise<readonly string[]> {
    const dp = this.dataplane()
    if (!dp) return []
    const svc = parseServiceDnsName(fqdn, dp.index.clusterDomain)
    if (!svc) return []
    return dp.index.services.get(`${svc.name}.${svc.namespace}`) ?? []
  }
}

/** The toolbox asking cluster DNS (src/dns): A and AAAA answers for an absolute name, headless and pod records included. */
export function clusterDnsPodResolver(dns: ClusterResolver): PodResolver {
  return { lookup: async (fqdn) => dns.lookupHost(fqdn)?.addresses ?? [] }
}

function hostnameOf(pod: Pod): string {
  return (pod.spec as { hostname?: string }).hostname ?? pod.metadata.name ?? ''
}

export function podIPsOf(pod: Pod): string[] {
  const listed = ((pod.status as { podIPs?: { ip?: string }[] } | undefined)?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '')
  return listed.length > 0 ? listed : pod.status?.podIP ? [pod.status.podIP] : []
}

export class PodToolboxContexts {
  #dp: ClusterDataplane | undefined
  #resolver: PodResolver
  readonly #ports: EphemeralPorts
  readonly #objects: ToolboxObjects
  readonly #files = new Map<string, MemoryFilesystem>()
  #podNetwork: PodNetworkDialer | undefined

  constructor(ports: EphemeralPorts, objects: ToolboxObjects) {
    this.#ports = ports
    this.#objects = objects
    this.#resolver = new ClusterNameResolver(() => this.#dp)
  }

  attach(dp: ClusterDataplane): void {
    this.#dp = dp
  }

  /** Pods with a network namespace of their own dial from there (kpe up --dataplane kernel). */
  usePodNetwork(dialer: PodNetworkDialer): void {
    this.#podNetwork = dialer
  }

  /** Puts another resolver (a cluster DNS server) behind nslookup, getent, curl and wget. */
  useResolver(resolver: PodResolver): void {
    this.#resolver = resolver
  }

  get clusterDomain(): string {
    return this.#dp?.index.clusterDomain ?? 'cluster.local'
  }

  context(pod: Pod, containerName: string): ToolboxContext {
    const namespace = pod.metadata.namespace ?? 'default'
    const name = pod.metadata.name ?? ''
    const container = (pod.spec.containers ?? []).find((c) => c.name === containerName)
    if (!container) throw new Error(`container ${containerName} is not in pod ${namespace}/${name}`)
    const hostname = hostnameOf(pod)
    const podIPs = podIPsOf(pod)
    const nodeName = pod.spec.nodeName ?? ''
    const resolvConf = podResolvConf(namespace, this.clusterDomain)
    const cidr = (this.#objects.node(nodeName)?.spec as { podCIDR?: string } | undefined)?.podCIDR
    const prefix = cidr ? Number(cidr.split('/')[1]) : undefined
    return {
      pod: { namespace, name, hostname, podIPs, nodeName, ...(prefix !== undefined && Number.isInteger(prefix) ? { podCIDRPrefix: prefix } : {}) },
      env: containerEnvironment({ pod, container, services: this.#objects.services(), hostname }),
      files: this.#filesOf(pod, containerName, hostname, podIPs, resolvConf),
      resolvConf,
      resolver: this.#resolver,
      dialer: this.#dialerFor(namespace, name, podIPs[0] !== undefined && nodeName !== '' ? { ip: podIPs[0], node: nodeName } : undefined),
      now: () => Date.now(),
    }
  }

  #filesOf(pod: Pod, container: string, hostname: string, podIPs: readonly string[], resolvConf: PodResolvConf): MemoryFilesystem {
    const live = this.#objects.podUIDs()
    for (const key of this.#files.keys()) if (!live.has(key.slice(0, key.indexOf('/')))) this.#files.delete(key)
    const key = `${pod.metadata.uid ?? ''}/${container}`
    let files = this.#files.get(key)
    if (!files) {
      files = new MemoryFilesystem()
      const namespace = pod.metadata.namespace ?? 'default'
      const subdomain = (pod.spec as { subdomain?: string }).subdomain
      const hostAliases = (pod.spec as { hostAliases?: { ip: string; hostnames: string[] }[] }).hostAliases
      files.write('/etc/hosts', Buffer.from(renderHostsFile({ podIPs, hostname, namespace, clusterDomain: this.clusterDomain, ...(subdomain ? { subdomain } : {}), ...(hostAliases ? { hostAliases } : {}) })))
      files.write('/etc/resolv.conf', Buffer.from(renderResolvConf(resolvConf)))
      files.write('/etc/hostname', Buffer.from(`${hostname}\n`))
      this.#files.set(key, files)
    }
    return files
  }

  #dialerFor(namespace: string, name: string, started: StartedPod | undefined): PodDialer {
    return {
      dial: async (ip: string, port: number, signal: AbortSignal): Promise<Duplex> => {
        const inKernel = this.#podNetwork?.dial({ namespace, name }, ip, port, signal)
        if (inKernel) return inKernel
        const dp = this.#dp
        if (!dp) throw new DialError('unreachable', 'the node agents are not running yet')
        const r = await dialThroughDataplane(dp, this.#ports, { entry: podToolboxEntry, client: { kind: 'pod', namespace, name, ...(started ? { started } : {}) }, host: ip, port })
        switch (r.kind) {
          case 'connected':
            if (signal.aborted) { r.socket.destroy(); throw new DialError('timeout', 'aborted') }
            return r.socket
          case 'dropped':
            // A DROP never answers: the caller's timeout (curl -m) ends the wait, as in a real pod,
            // or Linux's SYN retries (tcp_syn_retries 6: about 127 s) do.
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, synRetriesGiveUpMs)
              const done = (): void => { clearTimeout(timer); resolve() }
              if (signal.aborted) done()
              else signal.addEventListener('abort', done, { once: true })
            })
            throw new DialError('timeout', r.reason)
          case 'refused': throw new DialError('refused', r.reason)
          default: throw new DialError('unreachable', r.reason)
        }
      },
    }
  }
}
