/**
 * The kernel dataplane's hand-in hop as the entry points see it (implemented in src/netns): a
 * TCP connection to a cluster address opened from the topology's external host via one node, so
 * the node's kernel rules, not the interpreter, decide. Declared here so userspace/ imports nothing
 * below it; the hop itself logs each connection with the endpoint conntrack names.
 */
import type { Socket } from 'node:net'

export interface HandInPortRequest {
  /** How the connection log names the entry point (`nodeport 127.0.10.1:30080`, `socks5`, ...). */
  readonly entry: string
  /** How the connection log names the client. */
  readonly client: string
  /** The node whose rules decide: the hop enters the cluster through it. */
  readonly node: string
  /** An IP literal: a node IP (NodePort), ClusterIP, LoadBalancer or external IP, or a pod IP. */
  readonly host: string
  readonly port: number
  /** How long a SYN may stay unanswered (a DROP) before the hop gives up. */
  readonly timeoutMs?: number
}

export type HandInPortResult =
  | { readonly kind: 'connected'; readonly socket: Socket }
  | { readonly kind: 'refused' | 'dropped' | 'unreachable'; readonly reason: string }

export interface HandInPort {
  open(r: HandInPortRequest): Promise<HandInPortResult>
}
