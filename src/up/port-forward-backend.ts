/**
 * The kubelet's side of `kubectl port-forward` for `kpe up`: a connection into a pod goes to the
 * loopback address the pod network table gives for (pod IP, port), and nowhere else; no Service
 * rules are involved, and the pod sees 127.0.0.1, as inside its network namespace. Attached once
 * the node agents run. Each attempt is recorded for `kpe connections`.
 */
import type { Socket } from 'node:net'
import type { PortForwardBackend, PortForwardPod } from '../apiserver/index.js'
import type { PodNetworkTable, SeenSourceTable } from '../kubelet/index.js'
import { connectToPod, type ConnectionLog } from '../proxy/userspace/index.js'
import { EphemeralPorts } from './ephemeral-ports.js'

export const kubectlPortForwardEntry = 'kubectl port-forward'

/** What a forward needs from the running node agents. */
export interface PodNetworkAccess {
  readonly network: PodNetworkTable
  readonly seen: SeenSourceTable
  readonly log: ConnectionLog
  readonly connectTimeoutMs: number
}


export class PodNetworkPortForward implements PortForwardBackend {
  #access: PodNetworkAccess | undefined
  readonly #ports: EphemeralPorts

  /** `ports` is shared by every entry that connects on a client's behalf, so the pods never see one source port twice at once. */
  constructor(ports: EphemeralPorts) {
    this.#ports = ports
  }

  attach(access: PodNetworkAccess): void {
    this.#access = access
  }

  async dial(pod: PortForwardPod, port: number): Promise<Socket> {
    const a = this.#access
    if (!a) throw new Error('the node agents are not running yet')
    const name = `${pod.namespace}/${pod.name}`
    const base = { at: Date.now(), entry: kubectlPortForwardEntry, client: 'kubectl via the API server', destination: `pod/${name} port ${port}` }
    const refuse = (node: string, reason: string): Error => {
      a.log.add({ ...base, node, verdict: 'unreachable', reason })
      return new Error(reason)
    }
    const entry = a.network.lookup(pod.podIP, port, 'tcp')
    // The table also says whose address it is: a pod IP reused by a newer pod is not this pod.
    if (!entry || entry.pod !== name) throw refuse('', `failed to connect to localhost:${port} inside the pod: nothing listens on ${pod.podIP}:${port} (not in the pod network table)`)
    const seen = { address: '127.0.0.1', port: this.#ports.take() }
    let socket: Socket
    try {
      // connectToPod dials loopback only (assertLoopbackTarget), and the table holds nothing else.
      socket = await connectToPod(entry.local, seen, a.seen, a.connectTimeoutMs)
    } catch (e) {
      throw refuse(entry.node, `failed to connect to localhost:${port} inside the pod: ${e instanceof Error ? e.message : String(e)}`)
    }
    a.log.add({ ...base, node: entry.node, verdict: 'forward', pod: name, endpoint: `${pod.podIP}:${port}`, seen: `${seen.address}:${seen.port}` })
    return socket
  }
}
