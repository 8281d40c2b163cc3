/**
 * The API server's proxy backend for `kpe up`: the endpoint the API server picked is reached the
 * way kube-apiserver on a control-plane node reaches it, as a host process on the first node
 * (nat OUTPUT, source = its InternalIP) through that node's dataplane, so the pod network table
 * is the only way to the pod. Attached once the node agents run; 503 before.
 */
import type { Socket } from 'node:net'
import { assertNever } from '../errors.js'
import type { ProxyTarget, ServiceProxyBackend } from '../apiserver/index.js'
import type { ClusterDataplane } from '../proxy/userspace/index.js'
import { dialThroughDataplane } from './dataplane-dial.js'
import type { EphemeralPorts } from './ephemeral-ports.js'

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
    const r = await dialThroughDataplane(dp, this.#ports, {
      entry: this.#entry, client: { kind: 'node', node: dp.defaultNode }, describe: () => `${this.#who} on ${dp.defaultNode}`, host: target.address, port: target.port,
    })
    const to = `dial tcp ${target.address}:${target.port}`
    switch (r.kind) {
      case 'connected': return r.socket
      case 'not-cluster': throw new Error(`${target.address}:${target.port}: ${r.reason}`)
      case 'no-client': throw new Error(r.reason)
      case 'refused': throw new Error(`${to}: connection refused (${r.reason})`)
      case 'dropped': throw new Error(`${to}: no answer (${r.reason})`)
      case 'unreachable': throw new Error(`${to}: no route to host (${r.reason})`)
      default: return assertNever(r)
    }
  }
}
