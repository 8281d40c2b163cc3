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

  /** `ports` is shared by every entry that connects on a client's behalf, so the pods never see one source port twice at once. */
  constructor(ports: EphemeralPorts) {
    this.#ports = ports
  }

  attach(dp: ClusterDataplane): void {
    this.#dp = dp
  }

  async connect(target: ProxyTarget): Promise<Socket> {
    const dp = this.#dp
    if (!dp) throw new Error('the node agents are not running yet')
    const r = await dialThroughDataplane(dp, this.#ports, {
      entry: apiServerProxyEntry, client: { kind: 'node', node: dp.defaultNode }, describe: () => `api server on ${dp.defaultNode}`, host: target.address, port: target.port,
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
