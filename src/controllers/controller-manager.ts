/**
 * Starts and stops the watch-driven controllers together (EndpointSlice, ReplicaSet,
 * Deployment, StatefulSet, DaemonSet, Job, CronJob, scheduler, ServiceAccount, pod grace-period expiry), the kube-controller-manager and
 * kube-scheduler of kpe. The allocators are admission hooks, wired by src/cluster.
 */
import type { Clock } from '../runtime/index.js'
import type { ObjectStore } from '../store/index.js'
import type { ControllerClient } from './api-client.js'
import { ControllerLoop, type ControllerLoopOptions } from './controller-loop.js'
import { deploymentController } from './deployment-controller.js'
import { endpointSliceController } from './endpointslice-controller.js'
import { PodTerminator } from './pod-terminator.js'
import { replicaSetController } from './replicaset-controller.js'
import { schedulerController } from './scheduler-controller.js'
import { serviceAccountController } from './serviceaccount-controller.js'
import { statefulSetController } from './statefulset-controller.js'
import { daemonSetController } from './daemonset-controller.js'
import { jobController } from './job-controller.js'
import { cronJobController } from './cronjob-controller.js'

export interface ControllerManagerOptions extends ControllerLoopOptions {
  readonly store: ObjectStore
  readonly client: ControllerClient
  readonly clock: Clock
}

export class ControllerManager {
  readonly #loops: ControllerLoop[]
  readonly #terminator: PodTerminator

  constructor(opts: ControllerManagerOptions) {
    const { store, client, clock } = opts
    this.#loops = [
      endpointSliceController(store, client),
      replicaSetController(store, client, clock),
      deploymentController(store, client, clock),
      schedulerController(store, client, clock),
      serviceAccountController(store, client),
      statefulSetController(store, client),
      daemonSetController(store, client),
      jobController(store, client, clock),
      cronJobController(store, client, clock, (key, message) => opts.onError?.('cronjob-controller', key, new Error(message))),
    ].map((def) => new ControllerLoop(store, def, opts))
    this.#terminator = new PodTerminator(store, client, clock, opts.onError)
  }

  start(): void {
    for (const l of this.#loops) l.start()
    this.#terminator.start()
  }

  stop(): void {
    for (const l of this.#loops) l.stop()
    this.#terminator.stop()
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
