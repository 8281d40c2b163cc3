/**
 * The kubelet's side of `kubectl logs` for `kpe up`: the API server asks the kubelet of the pod's
 * node (as kube-apiserver asks the node's kubelet over HTTPS), and the kubelet's answer, a log
 * stream or a refusal in kubelet's words, comes back as a stream or a Status. Attached once the
 * node agents run; 503 before.
 */
import type { Readable } from 'node:stream'
import { ApiError, type PodLogBackend, type PodLogPod, type PodLogRequest, type RemoteCommandTarget } from '../apiserver/index.js'
import { readContainerLog, type Kubelet } from '../kubelet/index.js'
import type { KubeletReachability } from './kubelet-reachability.js'

export class KubeletPodLogs implements PodLogBackend {
  #kubelets: ReadonlyMap<string, Kubelet> | undefined
  #reachability: KubeletReachability | undefined

  attach(kubelets: ReadonlyMap<string, Kubelet>, reachability?: KubeletReachability): void {
    this.#kubelets = kubelets
    this.#reachability = reachability
  }

  async open(pod: PodLogPod, r: PodLogRequest): Promise<Readable> {
    const kubelets = this.#kubelets
    if (!kubelets) throw new ApiError(503, 'ServiceUnavailable', 'the node agents are not running yet')
    // A stopped node's kubelet refuses kube-apiserver's GET of the container log.
    const refused = this.#reachability?.(pod.nodeName)
    if (refused) throw new ApiError(500, 'InternalError', `Get "https://${refused.endpoint}/containerLogs/${pod.namespace}/${pod.name}/${r.container}": ${refused.error}`)
    const kubelet = kubelets.get(pod.nodeName)
    if (!kubelet) throw new ApiError(500, 'InternalError', `no kubelet runs on node ${pod.nodeName} (pod ${pod.namespace}/${pod.name})`)
    const found = kubelet.containerLog(pod.namespace, pod.name, r.container, r.previous)
    if (found.kind === 'error') throw new ApiError(found.code, found.code === 404 ? 'NotFound' : 'BadRequest', found.message)
    return readContainerLog(found.log, {
      follow: r.follow, timestamps: r.timestamps,
      ...(r.sinceMs === undefined ? {} : { sinceMs: r.sinceMs }),
      ...(r.tailLines === undefined ? {} : { tailLines: r.tailLines }),
      ...(r.limitBytes === undefined ? {} : { limitBytes: r.limitBytes }),
    })
  }
}

/** For attach: what a running container writes from now on (no earlier lines), ending with the container. */
export function kubeletContainerOutput(kubelets: ReadonlyMap<string, Kubelet>): (t: RemoteCommandTarget) => Readable | undefined {
  return (t) => {
    const found = kubelets.get(t.pod.spec.nodeName ?? '')?.containerLog(t.namespace, t.name, t.container, false)
    return found?.kind === 'log' ? readContainerLog(found.log, { follow: true, timestamps: false, tailLines: 0 }) : undefined
  }
}
