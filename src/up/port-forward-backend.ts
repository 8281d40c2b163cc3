/**
 * The kubelet's side of `kubectl port-forward` for `kpe up`, and the dialer `kpe port-forward`
 * shares: a connection into a pod goes through dialPod (the pod network table's loopback address
 * for that pod, an ephemeral source port, a connection log entry) and nowhere else; no Service
 * rules are involved. Attached once the node agents run.
 */
import type { Socket } from 'node:net'
import type { PortForwardBackend, PortForwardPod } from '../apiserver/index.js'
import type { Pod } from '../api/index.js'
import type { EphemeralPorts } from './ephemeral-ports.js'
import { dialPod, type PodDialCaller, type PodDialTarget, type PodNetworkAccess } from './pod-dial.js'
import type { KubeletReachability } from './kubelet-reachability.js'

export type { PodNetworkAccess } from './pod-dial.js'

export const kubectlPortForwardEntry = 'kubectl port-forward'

export class PodNetworkPortForward implements PortForwardBackend {
  #access: PodNetworkAccess | undefined
  #reachability: KubeletReachability | undefined
  readonly #ports: EphemeralPorts

  /** `ports` is shared by every entry that connects on a client's behalf, so the pods never see one source port twice at once. */
  constructor(ports: EphemeralPorts) {
    this.#ports = ports
  }

  attach(access: PodNetworkAccess): void {
    this.#access = access
  }

  /** How to tell that a pod's kubelet is down (kpe node stop); see kubelet-reachability.ts. */
  useKubeletReachability(reachability: KubeletReachability): void {
    this.#reachability = reachability
  }

  kubeletUnreachable(pod: Pod): string | undefined {
    return this.#reachability?.(pod.spec?.nodeName)?.error
  }

  /** kubectl port-forward, through the API server. */
  dial(pod: PortForwardPod, port: number): Promise<Socket> {
    const caller = {
      entry: kubectlPortForwardEntry,
      client: 'kubectl via the API server',
      destination: `pod/${pod.namespace}/${pod.name} port ${port}`,
      failurePrefix: `failed to connect to localhost:${port} inside the pod: `,
    }
    return this.dialFor({ namespace: pod.namespace, name: pod.name, podIP: pod.podIP, port }, caller)
  }

  /** Any entry's dial into a pod, logged under the caller's name. */
  async dialFor(target: PodDialTarget, caller: PodDialCaller): Promise<Socket> {
    const a = this.#access
    if (!a) throw new Error('the node agents are not running yet')
    return dialPod(a, this.#ports, target, caller)
  }
}
