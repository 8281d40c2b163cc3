/**
 * The agents endpoint's `GET /forward?kind=&ns=&name=&port=` upgrade (`kpe port-forward`):
 * resolves the pod as kubectl would, finds its loopback address in the pod network table, answers
 * 101 and splices the client to it. The pod sees 127.0.0.1, as behind kubectl port-forward.
 * Dials loopback only (connectToPod checks); refusals answer a plain HTTP error and close.
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Pod, Service } from '../api/index.js'
import { connectToPod, pipeBoth } from '../proxy/userspace/index.js'
import { type NodeAgents } from '../node/index.js'
import { parseForwardQuery, resolveForwardTarget, type ForwardRequest } from './port-forward-target.js'

export const forwardUpgradeProtocol = 'kpe-forward'
export const forwardEntry = 'port-forward'

/** Reads the objects a forward needs from wherever they live (the store, in kpe up). */
export interface ForwardObjects {
  service(namespace: string, name: string): Service | undefined
  pods(namespace: string): readonly Pod[]
}

const reasons: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 502: 'Bad Gateway', 503: 'Service Unavailable' }

function refuse(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`
  socket.end(`HTTP/1.1 ${status} ${reasons[status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}

function describe(r: ForwardRequest): string {
  return `${r.kind}/${r.namespace}/${r.name} port ${r.port}`
}

export async function handleForwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, agents: NodeAgents, objects: ForwardObjects): Promise<void> {
  socket.on('error', () => {})
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (url.pathname !== '/forward' || String(req.headers.upgrade ?? '').toLowerCase() !== forwardUpgradeProtocol) return refuse(socket, 404, `upgrade to ${forwardUpgradeProtocol} on /forward only`)
  const fr = parseForwardQuery(url.searchParams)
  if ('error' in fr) return refuse(socket, 400, fr.error)
  const res = resolveForwardTarget(fr, { service: fr.kind === 'svc' ? objects.service(fr.namespace, fr.name) : undefined, pods: objects.pods(fr.namespace) })
  const log = agents.proxy.log
  const client = `${req.headers['x-kpe-client'] ?? 'local client'}`
  const at = Date.now()
  if (res.kind === 'error') {
    log.add({ at, entry: forwardEntry, client, destination: describe(fr), node: '', verdict: 'refused', reason: res.message })
    return refuse(socket, res.status, res.message)
  }
  const t = res.target
  const entry = agents.network.lookup(t.podIP, t.containerPort, 'tcp')
  if (!entry) {
    const reason = `${t.podIP}:${t.containerPort} of ${t.pod} is not in the pod network table (nothing listens on that port)`
    log.add({ at, entry: forwardEntry, client, destination: describe(fr), node: '', verdict: 'unreachable', reason })
    return refuse(socket, 502, reason)
  }
  const limits = agents.proxy.dataplane.limits
  let up: Socket
  try {
    const clientPort = Number(/:(\d+)$/.exec(client)?.[1] ?? 0)
    up = await connectToPod(entry.local, { address: '127.0.0.1', port: clientPort }, agents.seen, limits.connectTimeoutMs)
  } catch (e) {
    return refuse(socket, 502, `${t.pod}: ${e instanceof Error ? e.message : String(e)}`)
  }
  log.add({ at, entry: forwardEntry, client, destination: describe(fr), node: entry.node, verdict: 'forward', pod: entry.pod, endpoint: `${t.podIP}:${t.containerPort}`, seen: '127.0.0.1' })
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${forwardUpgradeProtocol}\r\nx-kpe-pod: ${t.pod}\r\nx-kpe-port: ${t.containerPort}\r\n\r\n`)
  if (head.length > 0) up.write(head)
  pipeBoth(socket as Socket, up, limits.idleTimeoutMs)
}
