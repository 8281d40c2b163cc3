/**
 * Makes an HTTP(S) server safe against clients that misbehave at the socket level: every socket
 * keeps an 'error' listener for its whole life, and malformed or reset requests get a short
 * answer (or none) instead of an unhandled 'error' event that would end the process; a request
 * listener that throws on a malformed request answers 400 instead of ending it.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'

const ignore = (): void => {}

/** The status line for a request the HTTP parser refused, as Node's own default handler picks it. */
function clientErrorAnswer(code: string | undefined): string {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW': return '431 Request Header Fields Too Large'
    case 'ERR_HTTP_REQUEST_TIMEOUT': return '408 Request Timeout'
    default: return '400 Bad Request'
  }
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void

/**
 * A request listener that throws (a path with bad percent-encoding reaching decodeURIComponent,
 * an absolute-form target that new URL() refuses) would be an uncaught exception: kpe ends. It
 * answers 400 instead when the request itself is malformed (URIError, TypeError from URL
 * parsing), 500 otherwise, naming the request target.
 */
function answeringThrows(listener: RequestListener): RequestListener {
  return (req, res) => {
    try {
      listener(req, res)
    } catch (err) {
      const bad = err instanceof URIError || (err instanceof TypeError && (err as NodeJS.ErrnoException).code === 'ERR_INVALID_URL')
      const body = `${bad ? 'malformed request target' : 'internal error answering'} ${JSON.stringify(req.url ?? '')}: ${err instanceof Error ? err.message : String(err)}\n`
      if (res.headersSent) res.destroy()
      else res.writeHead(bad ? 400 : 500, { 'content-type': 'text/plain', connection: 'close' }).end(body)
    }
  }
}

/**
 * Node's http server detaches its own socket 'error' listener when a request upgrades the
 * connection, so a reset after the upgrade answer (or after a refusal written by the upgrade
 * handler) is an unhandled 'error' event. A listener added at 'connection' stays on. TLS servers
 * hand the upgrade handler the TLSSocket, hence 'secureConnection' too.
 */
export function guardHttpServer(server: HttpServer): void {
  // The request listeners given to createServer() are attached by now; each is wrapped in place.
  for (const listener of server.listeners('request') as RequestListener[]) {
    server.off('request', listener)
    server.on('request', answeringThrows(listener))
  }
  server.on('connection', (s: Socket) => { s.on('error', ignore) })
  server.on('secureConnection', (s: Socket) => { s.on('error', ignore) })
  server.on('tlsClientError', (_err: Error, s: Duplex) => { s.destroy() })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    socket.end(`HTTP/1.1 ${clientErrorAnswer(err.code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  })
}
