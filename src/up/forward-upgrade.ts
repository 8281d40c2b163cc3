/**
 * The agents endpoint's `GET /forward?kind=&ns=&name=&port=` upgrade (`kpe port-forward`):
 * resolves the pod as kubectl would, dials it through the same PodNetworkPortForward as kubectl
 * port-forward (pod identity, ephemeral source port, connection log), answers 101 and splices the
 * client to it. Refusals answer a plain HTTP error and close.
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Pod, Service } from '../api/index.js'
import { pipeBoth, type ConnectionLog } from '../proxy/userspace/index.js'
import { PodDialError } from './pod-dial.js'
import type { PodNetworkPortForward } from './port-forward-backend.js'
import { parseForwardQuery, resolveForwardTarget, type ForwardRequest } from './port-forward-target.js'

export const forwardUpgradeProtocol = 'kpe-forward'
export const forwardEntry = 'port-forward'

/** Reads the objects a forward needs from wherever they live (the store, in kpe up). */
export interface ForwardObjects {
  service(namespace: string, name: string): Service | undefined
  pods(namespace: string): readonly Pod[]
}

/** The dialer shared with kubectl port-forward, the log for refusals before a dial, the splice's idle limit. */
export interface ForwardAccess {
  readonly dialer: Pick<PodNetworkPortForward, 'dialFor'>
  readonly log: ConnectionLog
  readonly idleTimeoutMs: number
}

const reasons: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 502: 'Bad Gateway', 503: 'Service Unavailable' }

function refuse(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`
  socket.end(`HTTP/1.1 ${status} ${reasons[status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}

function describe(r: ForwardRequest): string {
  return `${r.kind}/${r.namespace}/${r.name} port ${r.port}`
}

export async function handleForwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, access: ForwardAccess, objects: ForwardObjects): Promise<void> {
  socket.on('error', () => {})
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (url.pathname !== '/forward' || String(req.headers.upgrade ?? '').toLowerCase() !== forwardUpgradeProtocol) return refuse(socket, 404, `upgrade to ${forwardUpgradeProtocol} on /forward only`)
  const fr = parseForwardQuery(url.searchParams)
  if ('error' in fr) return refuse(socket, 400, fr.error)
  const res = resolveForwardTarget(fr, { service: fr.kind === 'svc' ? objects.service(fr.namespace, fr.name) : undefined, pods: objects.pods(fr.namespace) })
  const client = `${req.headers['x-kpe-client'] ?? 'local client'}`
  if (res.kind === 'error') {
    access.log.add({ at: Date.now(), entry: forwardEntry, client, destination: describe(fr), node: '', verdict: 'refused', reason: res.message })
    return refuse(socket, res.status, res.message)
  }
  const t = res.target
  const [namespace = '', name = ''] = t.pod.split('/')
  let up: Socket
  try {
    up = await access.dialer.dialFor({ namespace, name, podIP: t.podIP, port: t.containerPort }, { entry: forwardEntry, client, destination: describe(fr) })
  } catch (e) {
    const reason = e instanceof PodDialError && e.notInTable ? `${t.podIP}:${t.containerPort} of ${t.pod} is not in the pod network table (nothing listens on that port)` : `${t.pod}: ${e instanceof Error ? e.message : String(e)}`
    return refuse(socket, 502, reason)
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${forwardUpgradeProtocol}\r\nx-kpe-pod: ${t.pod}\r\nx-kpe-port: ${t.containerPort}\r\n\r\n`)
  if (head.length > 0) up.write(head)
  pipeBoth(socket as Socket, up, access.idleTimeoutMs)
}
