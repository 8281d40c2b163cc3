/**
 * Makes an HTTP(S) server safe against clients that misbehave at the socket level: every socket
 * keeps an 'error' listener for its whole life, and malformed or reset requests get a short
 * answer (or none) instead of an unhandled 'error' event that would end the process.
 */
import type { Server as HttpServer } from 'node:http'
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

/**
 * Node's http server detaches its own socket 'error' listener when a request upgrades the
 * connection, so a reset after the upgrade answer (or after a refusal written by the upgrade
 * handler) is an unhandled 'error' event. A listener added at 'connection' stays on. TLS servers
 * hand the upgrade handler the TLSSocket, hence 'secureConnection' too.
 */
export function guardHttpServer(server: HttpServer): void {
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
