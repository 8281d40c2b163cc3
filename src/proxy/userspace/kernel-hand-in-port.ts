/**
 * The kernel dataplane's hand-in hop as the entry points see it (implemented in src/netns): a
 * TCP connection to a cluster address opened from the topology's external host via one node, so
 * the node's kernel rules, not the interpreter, decide. Declared here so userspace/ imports nothing
 * below it; the hop itself logs each connection with the endpoint conntrack names.
 */
import type { Socket } from 'node:net'

export interface HandInPortRequest {
  readonly entry: string
  readonly client: string
  readonly node: string
  readonly host: string
  readonly port: number
  readonly timeoutMs?: number
}

export type HandInPortResult =
  | { readonly kind: 'connected'; readonly socket: Socket }
  | { readonly kind: 'refused' | 'dropped' | 'unreachable'; readonly reason: string }

export interface HandInPort {
  open(r: HandInPortRequest): Promise<HandInPortResult>
}
