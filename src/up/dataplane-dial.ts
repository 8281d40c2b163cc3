/**
 * A TCP connection opened on a client's behalf through the node dataplane, as one packet would
 * travel: the destination must be a cluster address, the client's node's rules decide (DNAT,
 * masquerade, REJECT, DROP), and the decision is written to the connection log under `entry`.
 * The API server's proxy (as a host process on a node) and the pod toolbox (as a pod) both dial
 * through here.
 */
import type { Socket } from 'node:net'
import { assertNever } from '../errors.js'
import { decideDestination, resolveClient, type ClientSpec, type ClusterDataplane } from '../proxy/userspace/index.js'
import type { EphemeralPorts } from './ephemeral-ports.js'

export type DataplaneDialResult =
  | { readonly kind: 'connected'; readonly socket: Socket }
  | { readonly kind: 'refused' | 'unreachable' | 'dropped' | 'not-cluster' | 'no-client'; readonly reason: string }

export interface DataplaneDialRequest {
  readonly entry: string
  readonly client: ClientSpec
  /** Overrides how the connection log names the client. */
  readonly describe?: (resolved: string) => string
  readonly host: string
  readonly port: number
}

export async function dialThroughDataplane(dp: ClusterDataplane, ports: EphemeralPorts, r: DataplaneDialRequest): Promise<DataplaneDialResult> {
  const client = resolveClient(r.client, undefined, dp.index, dp.defaultNode)
  if ('error' in client) return { kind: 'no-client', reason: client.error }
  const describe = r.describe ? r.describe(client.describe) : client.describe
  const dst = decideDestination(r.host, r.port, 'tcp', dp.index)
  if (dst.kind === 'refuse') {
    dp.refused(r.entry, describe, `${r.host}:${r.port}`, dst.reason)
    return { kind: 'not-cluster', reason: dst.reason }
  }
  const d = dp.decide(r.entry, { ...client, describe }, dst, ports.take())
  if ('error' in d) return { kind: 'unreachable', reason: d.error }
  const route = d.route
  switch (route.kind) {
    case 'forward':
      try {
        return { kind: 'connected', socket: await dp.openTcp(route) }
      } catch (e) {
        return { kind: 'refused', reason: e instanceof Error ? e.message : String(e) }
      }
    case 'reject':
      return { kind: 'refused', reason: route.reason }
    case 'drop':
      return { kind: 'dropped', reason: route.reason }
    case 'unreachable':
      return { kind: 'unreachable', reason: route.reason }
    default:
      return assertNever(route)
  }
}
