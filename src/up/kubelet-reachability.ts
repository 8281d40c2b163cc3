/**
 * Whether the API server could reach a pod's kubelet: not when `kpe node stop` stopped its node
 * (kubelet and kube-proxy down, as after a crash). The answer is the dial error kube-apiserver
 * reports then, naming the node's address and kubelet port, so exec and attach fail as upstream.
 */
import type { Node, Pod } from '../api/index.js'
import type { NodeAgents } from '../node/index.js'

/** The kubelet's port (kpe's Nodes publish no status.daemonEndpoints; upstream's default). */
const kubeletPort = 10250

/** `dial tcp ADDRESS:PORT: connect: connection refused` for a pod on a stopped node, else undefined. */
export function kubeletDialRefusal(agents: Pick<NodeAgents, 'stoppedNodes'>, node: (name: string) => Node | undefined): (pod: Pod) => string | undefined {
  return (pod) => {
    const name = pod.spec?.nodeName
    if (name === undefined || !agents.stoppedNodes().includes(name)) return undefined
    const n = node(name)
    const address = n?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? name
    return `dial tcp ${address.includes(':') ? `[${address}]` : address}:${kubeletPort}: connect: connection refused`
  }
}
