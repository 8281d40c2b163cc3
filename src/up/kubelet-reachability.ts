/**
 * Whether the API server could reach a pod's kubelet: not when `kpe node stop` stopped its node
 * (kubelet and kube-proxy down, as after a crash). The answer is the dial error kube-apiserver
 * reports then, naming the node's address and kubelet port, so exec, attach and logs fail as upstream.
 */
import type { Node } from '../api/index.js'
import type { NodeAgents } from '../node/index.js'

/** The kubelet's port (kpe's Nodes publish no status.daemonEndpoints; upstream's default). */
const kubeletPort = 10250

/** A refused dial to a node's kubelet. */
export interface KubeletDialRefusal {
  /** host:port of the kubelet (IPv6 in brackets). */
  readonly endpoint: string
  /** `dial tcp HOST:PORT: connect: connection refused`, as Go words it. */
  readonly error: string
}

/** Whether a node's kubelet would refuse the API server's dial. */
export type KubeletReachability = (nodeName: string | undefined) => KubeletDialRefusal | undefined

/** Refusals for the nodes `kpe node stop` stopped, at the node's InternalIP (its name if it has none). */
export function kubeletDialRefusal(agents: Pick<NodeAgents, 'stoppedNodes'>, node: (name: string) => Node | undefined): KubeletReachability {
  return (name) => {
    if (name === undefined || !agents.stoppedNodes().includes(name)) return undefined
    const address = node(name)?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? name
    const endpoint = `${address.includes(':') ? `[${address}]` : address}:${kubeletPort}`
    return { endpoint, error: `dial tcp ${endpoint}: connect: connection refused` }
  }
}
