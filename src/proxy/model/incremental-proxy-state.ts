/**
 * The proxier's ProxyState kept up to date one Service at a time (upstream ServicePortMap.Update
 * and EndpointsMap.Update): a change re-derives only that Service's ports and endpoints. Every
 * other Service keeps its ServicePortInfo and endpoint-list objects, so a builder can cache its
 * work per service port by identity. Always equal to buildProxyState over the same objects
 * (test/property/incremental-sync.property.test.ts). Pure: no clock, no I/O.
 */
import type { EndpointSlice, Service } from '../../api/index.js'
import type { IPFamily } from '../../net/index.js'
import { buildEndpointsMap, type EndpointInfo } from './endpoint.js'
import { compareServicePorts, type ProxyState } from './proxy-state.js'
import { servicePortsFromService, type ServicePortInfo } from './service-port.js'

/** One Service's current objects: its Service (if any) and every EndpointSlice labelled with its name. */
export interface ServiceObjects {
  readonly service: Service | undefined
  readonly slices: readonly EndpointSlice[]
}

/** Above this many changed Services in one update, re-sorting everything beats splicing each. */
const spliceLimit = 64

export class IncrementalProxyState {
  readonly #family: IPFamily
  readonly #nodeName: string
  #servicePorts: readonly ServicePortInfo[] = []
  readonly #endpoints = new Map<string, readonly EndpointInfo[]>()
  /** Per Service (`ns/name` as the caller keys it): its ports and the endpoint keys its slices filled. */
  readonly #byService = new Map<string, { readonly ports: readonly ServicePortInfo[]; readonly endpointKeys: readonly string[] }>()

  constructor(family: IPFamily, nodeName: string) {
    this.#family = family
    this.#nodeName = nodeName
  }

  /**
   * Re-derives the named Services from their current objects. The state returned before stays
   * a valid snapshot of its service ports; its endpoints map is shared and follows the update.
   */
  update(changes: ReadonlyMap<string, ServiceObjects>): void {
    const removed: ServicePortInfo[][] = []
    const added: ServicePortInfo[][] = []
    for (const [name, objects] of changes) {
      const before = this.#byService.get(name)
      if (before) {
        if (before.ports.length > 0) removed.push([...before.ports])
        for (const key of before.endpointKeys) this.#endpoints.delete(key)
      }
      const ports = objects.service ? servicePortsFromService(objects.service, this.#family).sort(compareServicePorts) : []
      const endpoints = buildEndpointsMap(objects.slices, this.#family, this.#nodeName)
      for (const [key, list] of endpoints) this.#endpoints.set(key, list)
      if (ports.length > 0) added.push(ports)
      if (ports.length === 0 && endpoints.size === 0) this.#byService.delete(name)
      else this.#byService.set(name, { ports, endpointKeys: [...endpoints.keys()] })
    }
    if (removed.length === 0 && added.length === 0) return
    this.#servicePorts = changes.size > spliceLimit ? this.#sortedFromScratch() : spliced(this.#servicePorts, removed, added)
  }

  get state(): ProxyState {
    return { servicePorts: this.#servicePorts, endpoints: this.#endpoints }
  }

  #sortedFromScratch(): ServicePortInfo[] {
    const all: ServicePortInfo[] = []
    for (const { ports } of this.#byService.values()) for (const sp of ports) all.push(sp)
    return all.sort(compareServicePorts)
  }
}

/** A copy of the sorted list without each removed run and with each added run at its place. */
function spliced(list: readonly ServicePortInfo[], removed: readonly ServicePortInfo[][], added: readonly ServicePortInfo[][]): ServicePortInfo[] {
  const out = [...list]
  for (const run of removed) {
    // A Service's ports are contiguous in the sorted list: they share the primary key ns/name.
    const at = out.indexOf(run[0]!, lowerBound(out, run[0]!))
    out.splice(at, run.length)
  }
  for (const run of added) out.splice(lowerBound(out, run[0]!), 0, ...run)
  return out
}

function lowerBound(list: readonly ServicePortInfo[], sp: ServicePortInfo): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareServicePorts(list[mid]!, sp) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
