/**
 * The node agents' local HTTP endpoint (127.0.0.1, kube-proxy's metrics port 10249 by default):
 * `/metrics` (Prometheus text from every node's kube-proxy loop), `/rules/NODE` (the node's
 * current rules as iptables-save prints them), `/connections` (recent proxy decisions, JSON) and
 * the `/forward` upgrade that `kpe port-forward` splices connections through (forward-upgrade.ts).
 * Requests from web pages (foreign Host or Origin) are refused with 403, as on the API server.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { checkLocalRequest, localAuthority } from '../apiserver/index.js'
import { guardHttpServer } from '../net/index.js'
import { renderIptablesSave } from '../proxy/netfilter/index.js'
import { renderProxierMetrics } from '../proxy/proxier/index.js'
import type { LightweightRulesLoop, NodeAgents } from '../node/index.js'
import { handleForwardUpgrade, type ForwardAccess, type ForwardObjects } from './forward-upgrade.js'
import { nodeControl } from './node-control.js'

/** The `node` label of the lightweight nodes' shared kube-proxy loop on /metrics. */
export const lightweightMetricsNode = '(lightweight)'

export interface AgentServer {
  readonly url: string
  close(): Promise<void>
}

/** What /forward needs: where the objects live, and the pod dialer shared with kubectl port-forward. */
export interface AgentForward {
  readonly objects: ForwardObjects
  readonly dialer: ForwardAccess['dialer']
}

export async function startAgentServer(agents: NodeAgents, port: number, forward?: AgentForward, lightweight?: Pick<LightweightRulesLoop, 'table' | 'stats'>): Promise<AgentServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const send = (code: number, type: string, body: string): void => {
      res.writeHead(code, { 'content-type': type })
      res.end(body)
    }
    const refusal = checkLocalRequest(req.headers, authority())
    if (refusal !== undefined) return send(403, 'text/plain', `${refusal}\n`)
    if (path === '/nodes' || path.startsWith('/nodes/')) {
      nodeControl(agents, req.method ?? 'GET', path)
        .then((a) => (a ? send(a.code, a.type, a.body) : send(404, 'text/plain', 'try /nodes, /nodes/NODE/stop or /nodes/NODE/start\n')))
        .catch((err: unknown) => send(500, 'text/plain', `${err instanceof Error ? err.message : String(err)}\n`))
      return
    }
    if (req.method !== 'GET') return send(405, 'text/plain', 'only GET\n')
    if (path === '/metrics') {
      const nodes = [...agents.proxiers].map(([node, p]) => ({ node, stats: p.stats() }))
      // The lightweight nodes' one shared loop: a label no Node name can take (names are DNS subdomains).
      if (lightweight) nodes.push({ node: lightweightMetricsNode, stats: lightweight.stats() })
      return send(200, 'text/plain; version=0.0.4', renderProxierMetrics(nodes))
    }
    if (path.startsWith('/rules/')) {
      const node = decodeURIComponent(path.slice('/rules/'.length))
      const executor = agents.executors.get(node)
      if (executor) return send(200, 'text/plain', renderIptablesSave(executor.table()))
      // A lightweight node's rules come from their shared loop (kpe up --nodes), applied to no dataplane.
      void (lightweight?.table(node) ?? Promise.resolve(undefined))
        .then((table) => (table ? send(200, 'text/plain', renderIptablesSave(table)) : send(404, 'text/plain', `no such node; nodes: ${[...agents.executors.keys()].join(', ')}\n`)))
        .catch((err: unknown) => send(500, 'text/plain', `${err instanceof Error ? err.message : String(err)}\n`))
      return
    }
    if (path === '/connections') return send(200, 'application/json', `${JSON.stringify(agents.proxy.log.recent(), null, 2)}\n`)
    return send(404, 'text/plain', 'try /metrics, /rules/NODE or /connections\n')
  })
  // Host/Origin as on the API server (local-origin.ts): a web page must not reach /forward or read /connections.
  const authority = () => localAuthority('127.0.0.1', (server.address() as AddressInfo).port)
  guardHttpServer(server)
  const upgraded = new Set<Duplex>()
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    upgraded.add(socket)
    socket.once('close', () => upgraded.delete(socket))
    const refusal = checkLocalRequest(req.headers, authority())
    if (refusal !== undefined) socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${refusal}\n`)
    else if (forward) void handleForwardUpgrade(req, socket, head, { dialer: forward.dialer, log: agents.proxy.log, idleTimeoutMs: agents.proxy.dataplane.limits.idleTimeoutMs }, forward.objects)
    else socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const { port: bound } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
      for (const s of upgraded) s.destroy()
    }),
  }
}
