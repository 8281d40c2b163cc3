/**
 * Starts and stops the watch-driven controllers together (EndpointSlice, ReplicaSet,
 * Deployment, StatefulSet, DaemonSet, Job, CronJob, scheduler, ServiceAccount, pod grace-period expiry), the kube-controller-manager and
 * kube-scheduler of kpe. The allocators are admission hooks, wired by src/cluster.
 */
import type { Clock } from '../runtime/index.js'
import type { ObjectStore } from '../store/index.js'
import type { ControllerClient, PodBinder } from './api-client.js'
import { ControllerLoop, type ControllerLoopOptions } from './controller-loop.js'
import { deploymentController } from './deployment-controller.js'
import { endpointSliceController } from './endpointslice-controller.js'
import { EventExpiry } from './event-expiry.js'
import { EventBroadcaster } from './event-recorder.js'
import { NodeLifecycleController } from './node-lifecycle-controller.js'
import { PodTerminator } from './pod-terminator.js'
import { replicaSetController } from './replicaset-controller.js'
import { schedulerController } from './scheduler-controller.js'
import { serviceLoadBalancerEvents } from './service-lb-events.js'
import { serviceAccountController } from './serviceaccount-controller.js'
import { statefulSetController } from './statefulset-controller.js'
import { daemonSetController } from './daemonset-controller.js'
import { jobController } from './job-controller.js'
import { cronJobController } from './cronjob-controller.js'

export interface ControllerManagerOptions extends ControllerLoopOptions {
  readonly store: ObjectStore
  /** The scheduler binds through it (PodBinder), the other controllers write through it. */
  readonly client: ControllerClient & PodBinder
  readonly clock: Clock
  /** Where the controllers record Events; default: a broadcaster of their own over `client`. */
  readonly events?: EventBroadcaster
  /** Events older than this are deleted (kube-apiserver --event-ttl). Default 1 h. */
  readonly eventTtlMs?: number
  /**
   * Run the node lifecycle controller (kpe up, whose kubelets renew Leases). Left out where no
   * kubelet heartbeats (--control-plane-only): every Node would turn NotReady.
   */
  readonly nodeLifecycle?: { readonly gracePeriodMs?: number; readonly monitorPeriodMs?: number }
}

export class ControllerManager {
  readonly #loops: ControllerLoop[]
  readonly #terminator: PodTerminator
  readonly #eventExpiry: EventExpiry
  readonly #nodeLifecycle: NodeLifecycleController | undefined
  readonly events: EventBroadcaster

  constructor(opts: ControllerManagerOptions) {
    const { store, client, clock } = opts
    const events = opts.events ?? new EventBroadcaster({ client, clock, ...(opts.onError ? { onError: (m: string) => opts.onError?.('events', '', m) } : {}) })
    this.events = events
    const recorder = (controller: string) => events.recorderFor({ controller, instance: controller === 'default-scheduler' ? 'default-scheduler-kpe' : 'kube-controller-manager' })
    this.#loops = [
      endpointSliceController(store, client),
      replicaSetController(store, client, clock, recorder('replicaset-controller')),
      deploymentController(store, client, clock, recorder('deployment-controller')),
      schedulerController(store, client, clock, recorder('default-scheduler')),
      serviceAccountController(store, client),
      serviceLoadBalancerEvents(store, recorder('service-controller')),
      statefulSetController(store, client),
      daemonSetController(store, client),
      jobController(store, client, clock),
      cronJobController(store, client, clock, (key, message) => opts.onError?.('cronjob-controller', key, new Error(message))),
    ].map((def) => new ControllerLoop(store, def, opts))
    this.#terminator = new PodTerminator(store, client, clock, opts.onError)
    const nl = opts.nodeLifecycle
    this.#nodeLifecycle = nl && new NodeLifecycleController({
      store, client, clock, events: recorder('node-controller'), ...nl, ...(opts.onError ? { onError: opts.onError } : {}),
    })
    this.#eventExpiry = new EventExpiry({ store, client, clock, ...(opts.eventTtlMs !== undefined ? { ttlMs: opts.eventTtlMs } : {}), ...(opts.onError ? { onError: opts.onError } : {}) })
  }

  start(): void {
    for (const l of this.#loops) l.start()
    this.#terminator.start()
    this.#eventExpiry.start()
    this.#nodeLifecycle?.start()
  }

  stop(): void {
    for (const l of this.#loops) l.stop()
    this.#terminator.stop()
    this.#eventExpiry.stop()
    this.#nodeLifecycle?.stop()
    this.events.stop()
  }

  /** Resolves once every controller's queue has stayed empty for a moment (state has settled, for now). */
  async idle(): Promise<void> {
    for (let round = 0; round < 200; round++) {
      await Promise.all(this.#loops.map((l) => l.idle()))
      await new Promise((r) => setTimeout(r, 5))
      if (this.#loops.every((l) => l.isIdle)) return
    }
  }
}
