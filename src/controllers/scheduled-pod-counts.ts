/**
 * The scheduler's cache: per Node, the Pods bound to it that still count (not terminating, not
 * finished), in all and per controller, kept from the pods watch instead of counted from a list
 * of every Pod for each decision (quadratic at 100,000 pods). A binding is assumed here before its
 * write lands (upstream's AssumePod), so decisions made while it is in flight see it.
 */
import { objectKey, type Pod } from '../api/index.js'

interface Counted { readonly node: string; readonly owner: string | undefined }

function controllerUid(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller === true)?.uid
}

/** Whether a Pod takes room on its Node: bound, not terminating, not finished (as podsPerNode). */
function counts(pod: Pod): boolean {
  const phase = pod.status?.phase
  return !!pod.spec?.nodeName && !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed'
}

export class ScheduledPodCounts {
  readonly #pods = new Map<string, Counted>()
  readonly #perNode = new Map<string, number>()
  readonly #perOwner = new Map<string, Map<string, number>>()

  /** Records a Pod as it is now (from a watch event or a list); `gone` for a deletion. */
  observe(pod: Pod, gone = false): void {
    const key = objectKey(pod)
    this.#remove(key)
    if (!gone && counts(pod)) this.#add(key, { node: pod.spec.nodeName!, owner: controllerUid(pod) })
  }

  /** Counts `pod` on `node` before the binding is written. */
  assume(pod: Pod, node: string): void {
    const key = objectKey(pod)
    this.#remove(key)
    this.#add(key, { node, owner: controllerUid(pod) })
  }

  /** Undoes an assumption whose write failed. */
  forget(pod: Pod): void {
    this.#remove(objectKey(pod))
  }

  get perNode(): ReadonlyMap<string, number> {
    return this.#perNode
  }

  /** Per Node, the counted Pods with `pod`'s controller (empty for a Pod without one). */
  siblingsOf(pod: Pod): ReadonlyMap<string, number> {
    const uid = controllerUid(pod)
    return (uid === undefined ? undefined : this.#perOwner.get(uid)) ?? new Map()
  }

  #add(key: string, c: Counted): void {
    this.#pods.set(key, c)
    this.#perNode.set(c.node, (this.#perNode.get(c.node) ?? 0) + 1)
    if (c.owner === undefined) return
    let m = this.#perOwner.get(c.owner)
    if (!m) this.#perOwner.set(c.owner, (m = new Map()))
    m.set(c.node, (m.get(c.node) ?? 0) + 1)
  }

  #remove(key: string): void {
    const c = this.#pods.get(key)
    if (!c) return
    this.#pods.delete(key)
    decrement(this.#perNode, c.node)
    if (c.owner === undefined) return
    const m = this.#perOwner.get(c.owner)
    if (m) {
      decrement(m, c.node)
      if (m.size === 0) this.#perOwner.delete(c.owner)
    }
  }
}

function decrement(m: Map<string, number>, k: string): void {
  const n = (m.get(k) ?? 0) - 1
  if (n > 0) m.set(k, n)
  else m.delete(k)
}
