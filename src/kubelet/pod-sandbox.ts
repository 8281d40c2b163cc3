/**
 * The pod sandbox seam (what CRI's RunPodSandbox with a CNI ADD, and StopPodSandbox with a DEL,
 * are to a real kubelet): called with the pod's address before its containers start and after
 * they stopped. Without sandboxes a pod is loopback servers only; `kpe up --dataplane kernel`
 * gives each pod a network namespace here.
 */
import type { PodIdentity } from './pod-replies.js'

export interface PodSandboxes {
  /** Before the containers start: the pod's network, with its pod IP. */
  setUp(pod: PodIdentity): Promise<void>
  /** After every container stopped: removes what setUp made (also after a failed setUp). */
  tearDown(pod: PodIdentity): Promise<void>
}
