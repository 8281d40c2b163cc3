/**
 * What the kernel dataplane needs of a namespace agent (src/netns: a process inside one network
 * namespace that listens and dials there and hands each connected socket to kpe). Typed here as
 * the kernel dataplane uses it, so the sandboxes can be tested with an in-process stand-in.
 */
import type { Socket as UdpSocket } from 'node:dgram'
import type { Socket } from 'node:net'

export interface AgentAddressPort {
  readonly address: string
  readonly port: number
}

export interface AgentConnection {
  readonly socket: Socket
  readonly local: AgentAddressPort
  readonly remote: AgentAddressPort
}

export interface AgentListener {
  readonly local: AgentAddressPort
  close(): Promise<void>
}

/** A UDP socket bound inside the namespace: what it sends and receives is the namespace's. */
export interface AgentUdpSocket {
  readonly socket: UdpSocket
  readonly local: AgentAddressPort
}

export interface PodAgent {
  readonly pid: number
  listen(at: AgentAddressPort, onConnection: (c: AgentConnection) => void): Promise<AgentListener>
  bindUdp(at: AgentAddressPort): Promise<AgentUdpSocket>
  dial(to: { readonly host: string; readonly port: number; readonly timeoutMs?: number }): Promise<AgentConnection>
  stop(): Promise<void>
}

/** Starts an agent in the network namespace held by `holderPid`. */
export type StartPodAgent = (holderPid: number) => Promise<PodAgent>
