/**
 * The API server's proxy backend for `kpe up`: the endpoint the API server picked is reached the
 * way kube-apiserver on a control-plane node reaches it, as a host process on the first node
 * (nat OUTPUT, source = its InternalIP) through that node's dataplane, so the pod network table
 * is the only way to the pod. Attached once the node agents run; 503 before.
 */
import type { Socket } from 'node:net'
import { assertNever } from '../errors.js'
import type { ProxyTarget, ServiceProxyBackend } from '../apiserver/index.js'
import { decideDestination, resolveClient, type ClusterDataplane } from '../proxy/userspace/index.js'
import { EphemeralPorts } from './ephemeral-ports.js'

export const apiServerProxyEntry = 'api server proxy'


export class DataplaneServiceProxy implements ServiceProxyBackend {
  #dp: ClusterDataplane | undefined
  readonly #ports: EphemeralPorts
  readonly #entry: string
  readonly #who: string

  /**
   * `ports` is shared by every entry that connects on a client's behalf, so the pods never see
   * one source port twice at once. `entry` and `who` name the connections in the log (the
   * Ingress controller dials the same way, as a host process on the first node).
   */
  constructor(ports: EphemeralPorts, entry = apiServerProxyEntry, who = 'api server') {
    this.#ports = ports
    this.#entry = entry
    this.#who = who
  }

  get dataplane(): ClusterDataplane | undefined {
    return this.#dp
  }

  attach(dp: ClusterDataplane): void {
    this.#dp = dp
  }

  async connect(target: Pick<ProxyTarget, 'address' | 'port'>): Promise<Socket> {
    const dp = this.#dp
    if (!dp) throw new Error('the node agents are not running yet')
    const dst = decideDestination(target.address, target.port, 'tcp', dp.index)
    if (dst.kind === 'refuse') {
      dp.refused(this.#entry, this.#who, `${target.address}:${target.port}`, dst.reason)
      throw new Error(`${target.address}:${target.port}: ${dst.reason}`)
    }
    const client = resolveClient({ kind: 'node', node: dp.defaultNode }, undefined, dp.index, dp.defaultNode)
    if ('error' in client) throw new Error(client.error)
    const sport = this.#ports.take()
    const d = dp.decide(this.#entry, { ...client, describe: `${this.#who} on ${client.node}` }, dst, sport)
    if ('error' in d) throw new Error(d.error)
    const r = d.route
    switch (r.kind) {
      case 'forward':
        return dp.openTcp(r)
      case 'reject':
        return Promise.reject(new Error(`dial tcp ${target.address}:${target.port}: connection refused (${r.reason})`))
      case 'drop':
        return Promise.reject(new Error(`dial tcp ${target.address}:${target.port}: no answer (${r.reason})`))
      case 'unreachable':
        return Promise.reject(new Error(`dial tcp ${target.address}:${target.port}: no route to host (${r.reason})`))
      default:
        return assertNever(r)
    }
  }
}
