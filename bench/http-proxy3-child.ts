/**
 * The library alternative to kpe's L4 forward proxy, for `http.forward.vs_http_proxy_3`: a
 * forward proxy built on http-proxy-3 with a keep-alive agent, as issue 5 suggested building
 * kpe's on. It skips kpe's per-request decision (no interpreter, one fixed upstream), so it is an
 * upper bound for that design.
 *
 *   node http-proxy3-child.js UPSTREAM_PORT LISTEN_PORT
 *
 * Serves on 127.0.0.1:LISTEN_PORT; SIGTERM stops it.
 */
import { Agent, createServer } from 'node:http'
import { createProxyServer } from 'http-proxy-3'

const upstream = Number(process.argv[2])
const proxy = createProxyServer({ target: `http://127.0.0.1:${upstream}`, agent: new Agent({ keepAlive: true, maxSockets: 64 }), xfwd: false })
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502)
  res.end()
})
const server = createServer((req, res) => {
  // A forward proxy receives absolute URIs: the upstream gets origin-form.
  const url = new URL(req.url ?? '/', 'http://unused')
  req.url = `${url.pathname}${url.search}`
  proxy.web(req, res)
})
server.listen(Number(process.argv[3]), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
