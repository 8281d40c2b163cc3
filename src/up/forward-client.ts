/**
 * The `kpe port-forward` side of the agents endpoint's /forward upgrade: one HTTP Upgrade request
 * per local connection, resolving with the spliced socket (and the pod it reached) or rejecting
 * with the endpoint's reason. Connects to the agents endpoint's loopback URL only.
 */
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { assertLoopbackTarget } from '../proxy/userspace/index.js'
import { forwardUpgradeProtocol } from './forward-upgrade.js'
import { forwardQuery, type ForwardRequest } from './port-forward-target.js'

export interface OpenedForward {
  readonly socket: Socket
  readonly pod: string
  readonly port: number
  /** Bytes the endpoint sent after its 101 head. */
  readonly head: Buffer
}

export class ForwardRefusedError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

export function openForward(agentsUrl: string, r: ForwardRequest, client: string): Promise<OpenedForward> {
  const url = new URL(agentsUrl)
  assertLoopbackTarget(url.hostname)
  return new Promise((resolve, reject) => {
    const req = request({
      // host and port also make the Host header, which the agents endpoint checks (local-origin.ts).
      host: url.hostname, port: Number(url.port),
      createConnection: () => connect({ host: url.hostname, port: Number(url.port), allowHalfOpen: true }),
      method: 'GET',
      path: `/forward?${forwardQuery(r)}`,
      headers: { connection: 'Upgrade', upgrade: forwardUpgradeProtocol, 'x-kpe-client': client },
    })
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      resolve({ socket, head, pod: String(res.headers['x-kpe-pod'] ?? ''), port: Number(res.headers['x-kpe-port'] ?? 0) })
    })
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => reject(new ForwardRefusedError(res.statusCode ?? 0, body.trim() || `HTTP ${res.statusCode}`)))
    })
    req.on('error', reject)
    req.end()
  })
}
