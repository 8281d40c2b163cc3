/**
 * The one way the node agents dial into a pod on a client's behalf (kubectl port-forward, kpe
 * port-forward): the pod network table entry must belong to the requested pod (a pod IP reused
 * by a newer pod is not it), the source port comes from the shared ephemeral range, and every
 * attempt is written to the connection log.
 */
import type { Socket } from 'node:net'
import type { PodNetworkTable, SeenSourceTable } from '../kubelet/index.js'
import { connectToPod, type ConnectionLog } from '../proxy/userspace/index.js'
import type { EphemeralPorts } from './ephemeral-ports.js'

/** What a dial needs from the running node agents. */
export interface PodNetworkAccess {
  readonly network: PodNetworkTable
  readonly seen: SeenSourceTable
  readonly log: ConnectionLog
  readonly connectTimeoutMs: number
}

/** The pod and port asked for. */
export interface PodDialTarget {
  readonly namespace: string
  readonly name: string
  readonly podIP: string
  readonly port: number
}

/** Who asked, as the connection log names it. */
export interface PodDialCaller {
  readonly entry: string
  readonly client: string
  readonly destination: string
  /** Put before each refusal reason, e.g. kubelet's "failed to connect to localhost:PORT inside the pod: ". */
  readonly failurePrefix?: string
}

/** A refused dial; `notInTable` tells "nothing listens there" from a failed connect. */
export class PodDialError extends Error {
  constructor(message: string, readonly notInTable: boolean) {
    super(message)
  }
}

export async function dialPod(a: PodNetworkAccess, ports: EphemeralPorts, target: PodDialTarget, caller: PodDialCaller): Promise<Socket> {
  const name = `${target.namespace}/${target.name}`
  const base = { at: Date.now(), entry: caller.entry, client: caller.client, destination: caller.destination }
  const refuse = (node: string, reason: string, notInTable: boolean): PodDialError => {
    const message = `${caller.failurePrefix ?? ''}${reason}`
    a.log.add({ ...base, node, verdict: 'unreachable', reason: message })
    return new PodDialError(message, notInTable)
  }
  const entry = a.network.lookup(target.podIP, target.port, 'tcp')
  // The table also says whose address it is: a pod IP reused by a newer pod is not this pod.
  if (!entry || entry.pod !== name) throw refuse('', `nothing listens on ${target.podIP}:${target.port} (not in the pod network table)`, true)
  const seen = { address: '127.0.0.1', port: ports.take() }
  let socket: Socket
  try {
    // connectToPod dials loopback only (assertLoopbackTarget), and the table holds nothing else.
    socket = await connectToPod(entry.local, seen, a.seen, a.connectTimeoutMs)
  } catch (e) {
    throw refuse(entry.node, e instanceof Error ? e.message : String(e), false)
  }
  a.log.add({ ...base, node: entry.node, verdict: 'forward', pod: name, endpoint: `${target.podIP}:${target.port}`, seen: `${seen.address}:${seen.port}` })
  return socket
}
