/**
 * The pod IPs in use on each Node, kept from the pods watch instead of listing every Pod for
 * each assignment (quadratic at 100,000 pods). An assignment is reserved here before its status
 * write lands, so two Pods synced back to back never get the same address.
 */
import { objectKey, podIPs, type Pod } from '../api/index.js'

export class NodePodIPs {
  readonly #byPod = new Map<string, { readonly node: string; readonly ips: readonly string[] }>()
  readonly #byNode = new Map<string, Set<string>>()

  /** Records what a Pod holds now (its node and status IPs); a Pod without either holds nothing. */
  observe(pod: Pod): void {
    const node = pod.spec?.nodeName
    const ips = podIPs(pod)
    // Without both, a reservation stays until the status with the address arrives (or the Pod goes).
    if (node && ips.length > 0) this.reserve(objectKey(pod), node, ips)
  }

  /** Holds `ips` on `node` for the Pod `key`, replacing what it held. */
  reserve(key: string, node: string, ips: readonly string[]): void {
    this.forget(key)
    if (!node || ips.length === 0) return
    this.#byPod.set(key, { node, ips })
    let set = this.#byNode.get(node)
    if (!set) this.#byNode.set(node, (set = new Set()))
    for (const ip of ips) set.add(ip)
  }

  forget(key: string): void {
    const held = this.#byPod.get(key)
    if (!held) return
    this.#byPod.delete(key)
    const set = this.#byNode.get(held.node)
    for (const ip of held.ips) set?.delete(ip)
    if (set?.size === 0) this.#byNode.delete(held.node)
  }

  taken(node: string): ReadonlySet<string> {
    return this.#byNode.get(node) ?? new Set()
  }
}
