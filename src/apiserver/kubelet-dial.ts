/**
 * kube-apiserver dials the pod's kubelet before it upgrades exec, attach and port-forward; when
 * that kubelet is down (kpe node stop) the dial is refused and the request fails with 500 before
 * any upgrade. Backends say whether that is so; the upgraders refuse here, one way for all three.
 */
import type { Pod } from '../api/index.js'
import { ApiError } from './api-error.js'

/** A backend that can tell the API server that a pod's kubelet cannot be reached. */
export interface KubeletDial {
  /** The failed dial in Go's words (`dial tcp HOST:10250: connect: connection refused`), or undefined when it can be reached. */
  kubeletUnreachable?(pod: Pod): string | undefined
}

/** Throws the 500 kube-apiserver answers when the pod's kubelet refuses its dial. */
export function refuseUnreachableKubelet(backend: KubeletDial, pod: Pod): void {
  const unreachable = backend.kubeletUnreachable?.(pod)
  if (unreachable !== undefined) throw new ApiError(500, 'InternalError', `error dialing backend: ${unreachable}`)
}
