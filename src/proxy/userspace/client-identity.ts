/**
 * Who a proxy client is, from the proxy username: nothing or `via.NODE` is an external host
 * entering through a node, `pod.NAMESPACE.NAME` is that pod, `node.NODE` is the node itself.
 * Resolves to the packet source and the node whose rules the connection meets. Pure.
 */
import type { Origin } from '../netfilter/index.js'
import type { ClusterIndex } from './cluster-index.js'

export type ClientSpec =
  | { readonly kind: 'external'; readonly via: string | undefined }
  | { readonly kind: 'pod'; readonly namespace: string; readonly name: string; readonly started?: StartedPod }
  | { readonly kind: 'node'; readonly node: string }

/**
 * A pod's address and node as its caller read them from the Pod (status.podIP, spec.nodeName).
 * A container runs only once its pod has them, but the index is rebuilt a moment after the
 * kubelet reports them: a command in a pod that just started (`kubectl run -i`) leaves from
 * this address until the index has caught up, as a real pod's network exists before its containers.
 */
export interface StartedPod {
  readonly ip: string
  readonly node: string
}

export type ParsedUser = ClientSpec | { readonly kind: 'invalid'; readonly reason: string }

export function parseProxyUser(user: string | undefined): ParsedUser {
  const u = (user ?? '').trim()
  if (u === '' || u === 'external') return { kind: 'external', via: undefined }
  const dot = u.indexOf('.')
  const head = dot < 0 ? u : u.slice(0, dot)
  const rest = dot < 0 ? '' : u.slice(dot + 1)
  if (head === 'via' && rest !== '') return { kind: 'external', via: rest }
  if (head === 'node' && rest !== '') return { kind: 'node', node: rest }
  if (head === 'pod') {
    const d = rest.indexOf('.')
    if (d > 0 && d < rest.length - 1) return { kind: 'pod', namespace: rest.slice(0, d), name: rest.slice(d + 1) }
  }
  return { kind: 'invalid', reason: `proxy user "${u}": expected pod.NAMESPACE.NAME, via.NODE or node.NODE` }
}

export interface PacketSource {
  readonly src: string
  readonly origin: Origin
  /** The node whose rules a new connection meets first. */
  readonly node: string
  readonly describe: string
}

/**
 * An external client on loopback 127.A.B.C is seen by the rules as 198.18.B.C (RFC 2544's
 * benchmarking range, never routed), so distinct loopback clients stay distinct for affinity.
 */
export function externalClientAddress(peer: string | undefined): string {
  const m = /^(?:::ffff:)?127\.(\d+)\.(\d+)\.(\d+)$/.exec(peer ?? '')
  return m ? `198.18.${m[2]}.${m[3]}` : '198.18.0.1'
}

export function resolveClient(spec: ClientSpec, peer: string | undefined, index: ClusterIndex, defaultNode: string): PacketSource | { readonly error: string } {
  switch (spec.kind) {
    case 'external': {
      const node = spec.via ?? defaultNode
      if (!index.nodeIPs.has(node)) return { error: `no node "${node}" in the cluster` }
      const src = externalClientAddress(peer)
      return { src, origin: 'external', node, describe: `external host ${src} via ${node}` }
    }
    case 'pod': {
      const pod = index.pods.get(`${spec.namespace}/${spec.name}`) ?? spec.started
      if (!pod) return { error: `no running pod ${spec.namespace}/${spec.name} with an IP` }
      if (pod.node === undefined) return { error: `pod ${spec.namespace}/${spec.name} is not on a node` }
      return { src: pod.ip, origin: 'external', node: pod.node, describe: `pod ${spec.namespace}/${spec.name} (${pod.ip})` }
    }
    case 'node': {
      const ip = index.nodeIPs.get(spec.node)
      if (ip === undefined) return { error: `no node "${spec.node}" with an InternalIP` }
      return { src: ip, origin: 'local', node: spec.node, describe: `node ${spec.node} itself` }
    }
  }
}
