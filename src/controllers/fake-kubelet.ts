/**
 * A stand-in kubelet for control-plane tests that run no node agents (the real one is
 * src/kubelet/, assembled per node in src/node/): for Pods bound to its Nodes it reports status through the API as a kubelet would (Running, a podIP from the
 * Node's podCIDR, hostIP, Ready), and confirms the deletion of terminating Pods (marked not
 * ready first, removed with grace 0 after `terminationDelayMs`). Runs no containers.
 */
import { formatTimestamp, objectKey, podIPs, type Node, type Pod } from '../api/index.js'
import type { Clock } from '../runtime/index.js'
import { assignPodIP } from '../net/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { ControllerLoop, splitKey } from './controller-loop.js'
import { sameJson } from './same-json.js'
import { NodePodIPs } from './node-pod-ips.js'

export interface FakeKubeletOptions {
  readonly store: ObjectStore
  readonly client: ControllerClient
  readonly clock: Clock
  /** Which Nodes it serves; all when absent. */
  readonly nodes?: readonly string[]
  /** How long a terminating Pod lingers (not ready) before the kubelet confirms its deletion. Default 200 ms. */
  readonly terminationDelayMs?: number
  /** Whether a started Pod reports Ready; default true. */
  readonly isReady?: (pod: Pod) => boolean
}

export class FakeKubelet {
  readonly #opts: FakeKubeletOptions
  readonly #loop: ControllerLoop
  readonly #confirming = new Map<string, NodeJS.Timeout>()
  readonly #readiness = new Map<string, boolean>()
  readonly #ips = new NodePodIPs()
  readonly #nodes: ReadonlySet<string> | undefined

  constructor(opts: FakeKubeletOptions) {
    this.#opts = opts
    this.#nodes = opts.nodes && new Set(opts.nodes)
    this.#loop = new ControllerLoop(opts.store, {
      name: 'fake-kubelet',
      watches: [{ resource: storage.pods, keysOf: (ev) => this.#observe(ev.type, ev.object as unknown as Pod) }],
      initialKeys: () => opts.store.list(storage.pods).items.flatMap((p) => this.#observe('ADDED', p as unknown as Pod)),
      reconcile: (key) => this.#sync(key),
      // Pods are independent; an IP is reserved before its write, so syncs can overlap.
      workers: 32,
    })
  }

  start(): void {
    this.#loop.start()
  }

  stop(): void {
    this.#loop.stop()
    for (const t of this.#confirming.values()) clearTimeout(t)
    this.#confirming.clear()
  }

  idle(): Promise<void> {
    return this.#loop.idle()
  }

  /** Flips a Pod's readiness (as a failing or recovering readiness probe would). */
  setReady(namespace: string, name: string, ready: boolean): void {
    this.#readiness.set(`${namespace}/${name}`, ready)
    this.#loop.enqueue(`${namespace}/${name}`)
  }

  #serves(nodeName: string | undefined): boolean {
    return nodeName !== undefined && nodeName !== '' && (this.#nodes === undefined || this.#nodes.has(nodeName))
  }

  /** Keeps the IP index current; answers the keys to sync: Pods on its nodes. */
  #observe(type: string, pod: Pod): string[] {
    if (type === 'DELETED') {
      this.#ips.forget(objectKey(pod))
      return []
    }
    this.#ips.observe(pod)
    return this.#serves(pod.spec?.nodeName) ? [objectKey(pod)] : []
  }

  async #sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key)
    const live = this.#opts.store.get({ resource: storage.pods, namespace, name })
    if (!live) return
    const pod = live as unknown as Pod
    if (!this.#serves(pod.spec.nodeName)) return
    if (pod.metadata.deletionTimestamp) return this.#terminate(pod)
    const ready = this.#readiness.get(key) ?? this.#opts.isReady?.(pod) ?? true
    const status = this.#runningStatus(pod, ready)
    if (status === undefined) return
    if (sameJson(status, pod.status)) return
    await this.#opts.client.updateStatus(resources.pods, { ...pod, status } as unknown as KubeObject)
  }

  #runningStatus(pod: Pod, ready: boolean): Pod['status'] | undefined {
    const node = this.#opts.store.get({ resource: storage.nodes, namespace: '', name: pod.spec.nodeName ?? '' }) as unknown as Node | undefined
    if (!node) return undefined
    let ips = podIPs(pod)
    if (ips.length === 0) {
      const cidrs = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])
      const taken = this.#ips.taken(node.metadata.name ?? '')
      ips = cidrs.flatMap((c) => assignPodIP(c, taken) ?? [])
      if (ips.length === 0) return undefined
      this.#ips.reserve(objectKey(pod), node.metadata.name ?? '', ips)
    }
    const hostIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address
    const prev = pod.status ?? {}
    const now = formatTimestamp(this.#opts.clock.now())
    const since = (type: string, status: string): string => {
      const c = prev.conditions?.find((x) => x.type === type)
      return c && c.status === status && typeof c['lastTransitionTime'] === 'string' ? c['lastTransitionTime'] : now
    }
    const flag = ready ? 'True' : 'False'
    // No `lastProbeTime: null` in the conditions: the stored status drops nulls, so a status
    // holding one never equals what is stored, and the Pod was rewritten on every sync, forever.
    return {
      ...prev,
      phase: 'Running',
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: since('PodReadyToStartContainers', 'True') },
        { type: 'Initialized', status: 'True', lastTransitionTime: since('Initialized', 'True') },
        { type: 'Ready', status: flag, lastTransitionTime: since('Ready', flag) },
        { type: 'ContainersReady', status: flag, lastTransitionTime: since('ContainersReady', flag) },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: since('PodScheduled', 'True') },
      ],
      ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
      podIP: ips[0], podIPs: ips.map((ip) => ({ ip })),
      startTime: typeof prev['startTime'] === 'string' ? prev['startTime'] : now,
      containerStatuses: pod.spec.containers.map((c) => ({
        name: c.name, image: c.image ?? '', imageID: '', ready, started: true, restartCount: 0,
        state: { running: { startedAt: typeof prev['startTime'] === 'string' ? prev['startTime'] : now } },
      })),
    }
  }

  async #terminate(pod: Pod): Promise<void> {
    const key = objectKey(pod)
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')
    if (ready?.status === 'True') {
      const conditions = (pod.status?.conditions ?? []).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False' as const, lastTransitionTime: formatTimestamp(this.#opts.clock.now()) } : c))
      await this.#opts.client.updateStatus(resources.pods, { ...pod, status: { ...pod.status, conditions } } as unknown as KubeObject)
    }
    if (this.#confirming.has(key)) return
    const t = setTimeout(() => {
      this.#confirming.delete(key)
      this.#opts.client.delete(resources.pods, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid ?? '' } })
        .catch(() => undefined)
    }, this.#opts.terminationDelayMs ?? 200)
    this.#confirming.set(key, t)
  }
}
